/**
 * Binary HTTP (RFC 9292) against RFC 9458's example messages and against
 * bhttp-js, an implementation we did not write, in both directions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BHttpDecoder, BHttpEncoder } from 'bhttp-js';
import { EvidenceError } from '../../src/index.js';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../src/seal/index.js';

const hex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

describe('Binary HTTP (RFC 9292), known-length', () => {
  it("reads RFC 9458's truncated example request and response", () => {
    const request = decodeRequest(hex('00034745540568747470730b6578616d706c652e636f6d012f'));
    assert.deepEqual(
      [
        request.method,
        request.scheme,
        request.authority,
        request.path,
        request.headers,
        request.content.byteLength,
      ],
      ['GET', 'https', 'example.com', '/', [], 0],
    );
    const response = decodeResponse(hex('0140c8'));
    assert.deepEqual(
      [response.status, response.headers, response.content.byteLength],
      [200, [], 0],
    );
  });

  it('writes what bhttp-js reads, and reads what bhttp-js writes', async () => {
    const body = new TextEncoder().encode(
      JSON.stringify({ prompt: 'ünïcode prompt', salt: 'ab'.repeat(32) }),
    );
    const ours = encodeRequest({
      method: 'POST',
      scheme: 'https',
      authority: 'enclave.veritee',
      path: '/v1/infer',
      headers: [['content-type', 'application/json']],
      content: body,
    });
    const theirs = new BHttpDecoder().decodeRequest(ours);
    assert.equal(theirs.method, 'POST');
    assert.equal(theirs.url, 'https://enclave.veritee/v1/infer');
    assert.equal(theirs.headers.get('content-type'), 'application/json');
    assert.deepEqual(new Uint8Array(await theirs.arrayBuffer()), body);

    const encoded = await new BHttpEncoder().encodeRequest(
      new Request('https://enclave.veritee/v1/infer', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    );
    const read = decodeRequest(encoded);
    assert.deepEqual(
      [read.method, read.authority, read.path],
      ['POST', 'enclave.veritee', '/v1/infer'],
    );
    assert.deepEqual(read.content, body);

    const response = encodeResponse({
      status: 200,
      headers: [['content-type', 'application/json']],
      content: body,
    });
    const decoded = new BHttpDecoder().decodeResponse(response);
    assert.equal(decoded.status, 200);
    assert.deepEqual(new Uint8Array(await decoded.arrayBuffer()), body);
    const back = decodeResponse(
      await new BHttpEncoder().encodeResponse(
        new Response(body, { status: 422, headers: { 'x-a': 'b' } }),
      ),
    );
    assert.deepEqual([back.status, back.headers.find(([name]) => name === 'x-a')?.[1]], [422, 'b']);
    assert.deepEqual(back.content, body);
  });

  it('refuses the indeterminate form, a cut message and trailing bytes, typed', () => {
    for (const bad of [hex('02034745'), hex('000347'), hex('0140c800000001ff'), hex('01')])
      assert.throws(
        () => (bad[0] === 1 ? decodeResponse(bad) : decodeRequest(bad)),
        (error: unknown) => error instanceof EvidenceError && error.code === 'BHTTP_MALFORMED',
        Buffer.from(bad).toString('hex'),
      );
  });
});
