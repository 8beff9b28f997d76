/**
 * Oblivious HTTP encapsulation against RFC 9458's worked example (Appendix A),
 * byte for byte, in both roles; then round trips in every suite, and the
 * refusals a gateway owes a stranger.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError, EvidenceError } from '../../src/index.js';
import {
  decapsulateRequest,
  encapsulateRequest,
  encodeKeyConfig,
  encodeKeyConfigs,
  generateEnclaveKeyPair,
  HPKE_AEAD,
  hpkeKeyPairFromPrivate,
  parseKeyConfig,
  type KeyConfig,
} from '../../src/seal/index.js';

const hex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

// RFC 9458, Appendix A.
const A = {
  gatewaySecret: hex('3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a'),
  keyConfig: hex(`01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e
    79815500080001000100010003`),
  request: hex('00034745540568747470730b6578616d706c652e636f6d012f'),
  clientSecret: hex('bc51d5e930bda26589890ac7032f70ad12e4ecb37abb1b65b1256c9c48999c73'),
  clientPublic: hex('4b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472'),
  encapsulatedRequest: hex(`010020000100014b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad1
    9dec96c208b4726374e469135906992e1268c594d2a10c695d858c40a026e796
    5e7d86b83dd440b2c0185204b4d63525`),
  response: hex('0140c8'),
  responseNonce: hex('c789e7151fcba46158ca84b04464910d'),
  encapsulatedResponse: hex(`c789e7151fcba46158ca84b04464910d86f9013e404feea014e7be4a441f234f
    857fbd`),
};

describe('Oblivious HTTP (RFC 9458)', () => {
  const gatewayKeys = hpkeKeyPairFromPrivate(A.gatewaySecret);
  const config = parseKeyConfig(A.keyConfig);

  it("reads Appendix A's key configuration and writes it back byte for byte", () => {
    assert.deepEqual(config.publicKey, gatewayKeys.publicKey);
    assert.equal(config.keyId, 1);
    assert.deepEqual(
      config.suites.map((suite) => suite.aead),
      [HPKE_AEAD.AES_128_GCM, HPKE_AEAD.CHACHA20_POLY1305],
    );
    assert.deepEqual(encodeKeyConfig(config), A.keyConfig);
    assert.deepEqual(encodeKeyConfigs([config]).subarray(2), A.keyConfig);
  });

  it("makes Appendix A's encapsulated request and response, byte for byte", () => {
    const ephemeral = hpkeKeyPairFromPrivate(A.clientSecret);
    assert.deepEqual(ephemeral.publicKey, A.clientPublic);
    const client = encapsulateRequest(config, A.request, {
      suite: { kdf: 1, aead: HPKE_AEAD.AES_128_GCM },
      ephemeral,
    });
    assert.deepEqual(client.encapsulated, A.encapsulatedRequest);
    const gateway = decapsulateRequest({ config, keyPair: gatewayKeys }, A.encapsulatedRequest);
    assert.deepEqual(gateway.request, A.request);
    assert.deepEqual(gateway.sealResponse(A.response, A.responseNonce), A.encapsulatedResponse);
    assert.deepEqual(client.openResponse(A.encapsulatedResponse), A.response);
  });

  for (const aead of [HPKE_AEAD.AES_128_GCM, HPKE_AEAD.AES_256_GCM, HPKE_AEAD.CHACHA20_POLY1305])
    it(`round-trips with AEAD ${aead}, and a response opens only for its own request`, () => {
      const keyPair = generateEnclaveKeyPair();
      const ours: KeyConfig = {
        keyId: 7,
        kem: 0x20,
        publicKey: keyPair.publicKey,
        suites: [{ kdf: 1, aead }],
      };
      const client = encapsulateRequest(ours, new TextEncoder().encode('a private prompt'));
      const other = encapsulateRequest(ours, new TextEncoder().encode('another'));
      const gateway = decapsulateRequest({ config: ours, keyPair }, client.encapsulated);
      assert.equal(new TextDecoder().decode(gateway.request), 'a private prompt');
      const response = gateway.sealResponse(new TextEncoder().encode('an answer'));
      assert.equal(new TextDecoder().decode(client.openResponse(response)), 'an answer');
      assert.throws(
        () => other.openResponse(response),
        (error: unknown) => error instanceof ChainError && error.code === 'OHTTP_OPEN_FAILED',
      );
    });

  it('refuses another key id, a suite not offered, a changed byte and a cut request, typed', () => {
    const gateway = { config, keyPair: gatewayKeys };
    const code = (expected: string) => (error: unknown) =>
      (error instanceof EvidenceError || error instanceof ChainError) && error.code === expected;
    const otherKey = Uint8Array.from(A.encapsulatedRequest);
    otherKey[0] = 2;
    assert.throws(() => decapsulateRequest(gateway, otherKey), code('OHTTP_KEY_UNKNOWN'));
    const otherSuite = Uint8Array.from(A.encapsulatedRequest);
    otherSuite[6] = 2; // AES-256-GCM, which this configuration does not offer
    assert.throws(() => decapsulateRequest(gateway, otherSuite), code('OHTTP_MALFORMED'));
    const changed = Uint8Array.from(A.encapsulatedRequest);
    changed[changed.length - 1]! ^= 1;
    assert.throws(() => decapsulateRequest(gateway, changed), code('OHTTP_OPEN_FAILED'));
    assert.throws(
      () => decapsulateRequest(gateway, A.encapsulatedRequest.subarray(0, 30)),
      code('OHTTP_MALFORMED'),
    );
    assert.throws(() => parseKeyConfig(A.keyConfig.subarray(0, 40)), code('OHTTP_MALFORMED'));
  });
});
