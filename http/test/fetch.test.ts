import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamError } from '@veritee/attestations';
import { fetchBounded } from '../src/index.js';

/** How much of each streamed answer the server managed to write before the client hung up. */
const written = new Map<string, number>();

function stream(response: ServerResponse, path: string, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  response.writeHead(200, { 'content-type': 'application/octet-stream' });
  const pump = () => {
    while (sent < total) {
      sent += chunk.byteLength;
      written.set(path, sent);
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
    response.end();
  };
  response.on('close', () => written.set(path, sent));
  pump();
}

let server: Server;
let base: string;

before(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/json':
        return void response.end(JSON.stringify({ hello: 'world' }));
      case '/problem':
        response.writeHead(422, { 'content-type': 'application/problem+json' });
        return void response.end(JSON.stringify({ code: 'RECEIPT_BINDING_MISMATCH' }));
      case '/declared-large':
        response.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
        return void response.write('x');
      case '/endless':
        return stream(response, '/endless', 50 * 1024 * 1024);
      case '/silent':
        return; // never answers
      case undefined:
      default:
        response.writeHead(404);
        response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const options = { errorCode: 'TEST_UPSTREAM', timeoutMs: 2_000, maxBytes: 1024 * 1024 };

describe('fetchBounded', () => {
  it('returns the status and body, and parses JSON', async () => {
    const response = await fetchBounded(`${base}/json`, options);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { hello: 'world' });
  });

  it('returns error statuses with their problem code rather than throwing', async () => {
    const response = await fetchBounded(`${base}/problem`, options);
    assert.deepEqual([response.status, response.ok], [422, false]);
    assert.equal(response.problemCode(), 'RECEIPT_BINDING_MISMATCH');
  });

  it('refuses an answer that declares more than the cap before reading it', async () => {
    await assert.rejects(
      fetchBounded(`${base}/declared-large`, options),
      (error) =>
        error instanceof UpstreamError && error.code === 'TEST_UPSTREAM' && !error.timedOut,
    );
  });

  it('stops reading a streamed answer once it passes the cap', async () => {
    await assert.rejects(
      fetchBounded(`${base}/endless`, options),
      (error) => error instanceof UpstreamError && error.code === 'TEST_UPSTREAM',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The server was cut off long before its 50 MiB: at most the cap plus what sat in buffers.
    assert.ok((written.get('/endless') ?? 0) < 16 * 1024 * 1024, `${written.get('/endless')}`);
  });

  it('gives up at the deadline, and says it timed out', async () => {
    await assert.rejects(
      fetchBounded(`${base}/silent`, { ...options, timeoutMs: 150 }),
      (error) => error instanceof UpstreamError && error.timedOut,
    );
  });

  it('names the call without its query string when the other side is unreachable', async () => {
    await assert.rejects(
      fetchBounded('http://127.0.0.1:9/x?token=secret', options),
      (error) =>
        error instanceof UpstreamError &&
        error.code === 'TEST_UPSTREAM' &&
        !error.timedOut &&
        !error.message.includes('secret'),
    );
  });
});
