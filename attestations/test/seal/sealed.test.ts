import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ChainError, EvidenceError } from '../../src/index.js';
import { encodeCbor } from '../../src/nitro/index.js';
import { generateEnclaveKeyPair, openRequest, sealRequest } from '../../src/seal/index.js';

const enclave = generateEnclaveKeyPair();
const request = () => ({
  prompt: 'what is the capital of France?',
  salt: new Uint8Array(randomBytes(32)),
  nonce: new Uint8Array(randomBytes(32)),
});
const code = (expected: string) => (error: unknown) =>
  (error instanceof ChainError || error instanceof EvidenceError) && error.code === expected;

describe('sealed requests', () => {
  it('opens in the enclave to the same request, and the response opens only for its requester', () => {
    const sent = request();
    const { sealed, openResponse } = sealRequest(enclave.publicKey, sent);
    assert.equal(
      Buffer.from(sealed).includes(Buffer.from(sent.prompt)),
      false,
      'the prompt is not visible in the sealed bytes',
    );
    const opened = openRequest(enclave, sealed);
    assert.deepEqual(opened.request, sent);
    const output = new TextEncoder().encode('Paris');
    const response = opened.sealResponse(output);
    assert.deepEqual(openResponse(response), output);
    const other = sealRequest(enclave.publicKey, request());
    assert.throws(() => other.openResponse(response), code('SEAL_OPEN_FAILED'));
  });

  it('cannot be opened with another key, or once altered', () => {
    const { sealed } = sealRequest(enclave.publicKey, request());
    assert.throws(() => openRequest(generateEnclaveKeyPair(), sealed), code('SEAL_OPEN_FAILED'));
    const altered = Uint8Array.from(sealed);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1;
    assert.throws(() => openRequest(enclave, altered), code('SEAL_OPEN_FAILED'));
  });

  it('rejects a tampered response', () => {
    const { sealed, openResponse } = sealRequest(enclave.publicKey, request());
    const response = openRequest(enclave, sealed).sealResponse(new Uint8Array([1, 2, 3]));
    const altered = Uint8Array.from(response);
    altered[altered.length - 2] = (altered[altered.length - 2] ?? 0) ^ 1;
    assert.throws(() => openResponse(altered), code('SEAL_OPEN_FAILED'));
  });

  it('rejects malformed envelopes and requests with a typed code', () => {
    for (const bytes of [
      new Uint8Array([0xff]),
      encodeCbor(new Map([['enc', new Uint8Array(32)]])),
      encodeCbor(
        new Map([
          ['enc', new Uint8Array(5)],
          ['ct', new Uint8Array(40)],
        ]),
      ),
      new Uint8Array(2 * 1024 * 1024),
    ]) {
      assert.throws(() => openRequest(enclave, bytes), code('SEAL_MALFORMED'));
    }
    assert.throws(
      () => sealRequest(enclave.publicKey, { ...request(), salt: new Uint8Array(8) }),
      code('SEAL_MALFORMED'),
    );
    assert.throws(() => sealRequest(new Uint8Array(33), request()), code('SEAL_MALFORMED'));
  });
});
