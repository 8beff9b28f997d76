/**
 * createBoundedServer holds slow and numerous clients to its limits: a body
 * trickled in, headers trickled in, an idle keep-alive connection and one
 * connection too many are each cut off, long before Node's defaults would
 * (whose sweep alone runs every 30 s). Raw sockets on 127.0.0.1.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createBoundedServer } from '../src/index.js';

const LIMITS = {
  headersTimeoutMs: 600,
  requestTimeoutMs: 1_000,
  keepAliveTimeoutMs: 500,
  maxConnections: 2,
};
/** Far below Node's own defaults (a 300 s request timeout, checked every 30 s). */
const DEADLINE_MS = 5_000;

let completed = 0;
const server = createBoundedServer(LIMITS, (request, response) => {
  request.resume();
  request.on('end', () => {
    completed++;
    response.end('ok');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
after(() => server.close());

/** Opens a socket; resolves with what the server sent and when it closed. */
function open(): { socket: Socket; closed: Promise<{ text: string; afterMs: number }> } {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, afterMs: Date.now() - started });
    });
  });
  return { socket, closed };
}

/** Writes one byte every 100 ms while the socket is open. */
function trickle(socket: Socket, byte: string): void {
  const timer = setInterval(() => {
    if (socket.writable) socket.write(byte);
    else clearInterval(timer);
  }, 100);
  socket.on('close', () => clearInterval(timer));
}

describe('createBoundedServer', () => {
  it('cuts off a body trickled in past the request timeout with 408', async () => {
    const { socket, closed } = open();
    socket.write('POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n');
    trickle(socket, 'x');
    const { text, afterMs } = await closed;
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(afterMs >= LIMITS.requestTimeoutMs - 100, `closed after ${afterMs} ms`);
    assert.equal(completed, 0, 'the handler never saw a whole request');
  });

  it('cuts off headers trickled in past the headers timeout with 408', async () => {
    const { socket, closed } = open();
    socket.write('GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ');
    trickle(socket, 'a');
    const { text } = await closed;
    assert.match(text, /^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after its timeout', async () => {
    const { socket, closed } = open();
    socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n');
    const { text, afterMs } = await closed;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(afterMs >= LIMITS.keepAliveTimeoutMs - 100, `closed after ${afterMs} ms`);
  });

  it('refuses a connection past the cap while the others are held', async () => {
    const held = [open(), open()];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const extra = open();
    const { text, afterMs } = await extra.closed;
    assert.equal(text, '', 'the extra connection is dropped unanswered');
    assert.ok(afterMs < LIMITS.headersTimeoutMs, `dropped after ${afterMs} ms`);
    for (const { socket } of held) socket.destroy();
    await Promise.all(held.map(({ closed }) => closed));
  });
});
