import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'cbor2';
import { ChainError, EvidenceError } from '../../src/index.js';
import { defaultTrustStore } from '../../src/evidence/index.js';
import { parseNitroDocument, verifyNitro, type NitroDocument } from '../../src/nitro/index.js';
import { serializeNitroPayload } from '../../src/nitro/document.js';
import { vectors, vectorFile, vectorById } from '@veritee/mock/vectors';

const realDocuments = vectors.filter(
  (vector) => vector.format === 'nitro' && vector.expect === 'accept',
);
const nonceVector = vectorById('nitro-evervault-2022-10-13-nonce');
const document = parseNitroDocument(vectorFile(nonceVector.evidence));
const at = new Date(nonceVector.verify_at);

function assertChainCode(fn: () => unknown, code: string): void {
  assert.throws(
    fn,
    (error: unknown) => error instanceof ChainError && error.code === code,
    `expected ${code}`,
  );
}

function withPayload(edit: Partial<NitroDocument['payload']>): NitroDocument {
  const payload = { ...document.payload, ...edit };
  return { ...document, payload, payloadBytes: serializeNitroPayload(payload) };
}

describe('verifyNitro', () => {
  for (const vector of realDocuments) {
    it(`verifies ${vector.id} against the AWS Nitro root at ${vector.verify_at}`, () => {
      const verified = verifyNitro(parseNitroDocument(vectorFile(vector.evidence)), {
        trust: defaultTrustStore(),
        at: new Date(vector.verify_at),
      });
      assert.equal(verified.simulated, false);
      assert.equal(verified.format, 'nitro');
    });
  }

  it('re-encodes the payload exactly as AWS did', () => {
    assert.deepEqual(serializeNitroPayload(document.payload), document.payloadBytes);
  });

  it('rejects every document before its chain begins and after its leaf expires', () => {
    const [start, end] = (nonceVector as unknown as { chain_window: [string, string] })
      .chain_window;
    assertChainCode(
      () =>
        verifyNitro(document, {
          trust: defaultTrustStore(),
          at: new Date(Date.parse(start) - 1000),
        }),
      'NITRO_CERT_NOT_YET_VALID',
    );
    assertChainCode(
      () =>
        verifyNitro(document, { trust: defaultTrustStore(), at: new Date(Date.parse(end) + 1000) }),
      'NITRO_CERT_EXPIRED',
    );
    assertChainCode(
      () => verifyNitro(document, { trust: defaultTrustStore(), at: new Date() }),
      'NITRO_CERT_EXPIRED',
    );
  });

  it('rejects a cabundle that does not start at a trusted root', () => {
    assertChainCode(
      () => verifyNitro(document, { trust: { snp: [], nitro: [] }, at }),
      'NITRO_CHAIN_UNTRUSTED',
    );
    const [, ...rest] = document.payload.cabundle;
    assertChainCode(
      () => verifyNitro(withPayload({ cabundle: rest }), { trust: defaultTrustStore(), at }),
      'NITRO_CHAIN_UNTRUSTED',
    );
  });

  it('rejects a cabundle in the wrong order or with a link missing', () => {
    const [root, a, b, c] = document.payload.cabundle;
    assertChainCode(
      () =>
        verifyNitro(withPayload({ cabundle: [root!, b!, a!, c!] }), {
          trust: defaultTrustStore(),
          at,
        }),
      'NITRO_CHAIN_BROKEN',
    );
    assertChainCode(
      () =>
        verifyNitro(withPayload({ cabundle: [root!, a!, c!] }), { trust: defaultTrustStore(), at }),
      'NITRO_CHAIN_BROKEN',
    );
  });

  it("rejects a leaf certificate taken from another enclave's document", () => {
    const other = parseNitroDocument(
      vectorFile(vectorById('nitro-evervault-2022-10-12-debug').evidence),
    );
    assert.throws(
      () =>
        verifyNitro(withPayload({ certificate: other.payload.certificate }), {
          trust: defaultTrustStore(),
          at,
        }),
      (error: unknown) => error instanceof ChainError,
    );
  });

  it('rejects any change to the signed payload', () => {
    assertChainCode(
      () =>
        verifyNitro(withPayload({ nonce: new Uint8Array(32) }), { trust: defaultTrustStore(), at }),
      'NITRO_COSE_BAD_SIGNATURE',
    );
    assertChainCode(
      () =>
        verifyNitro(withPayload({ timestamp: document.payload.timestamp + 1 }), {
          trust: defaultTrustStore(),
          at,
        }),
      'NITRO_COSE_BAD_SIGNATURE',
    );
  });

  it('rejects a protected header spelled another way with the same algorithm, before any signature check', () => {
    // {1: -35} encoded with a non-preferred (two-byte) integer: same meaning, other bytes.
    const protectedHeader = new Uint8Array([0xa1, 0x01, 0x39, 0x00, 0x22]);
    assert.notDeepEqual(protectedHeader, document.protectedHeader);
    assert.throws(
      () =>
        parseNitroDocument(
          encode([protectedHeader, new Map(), document.payloadBytes, document.signature]),
        ),
      (error: unknown) =>
        error instanceof EvidenceError && error.code === 'NITRO_DOCUMENT_MALFORMED',
    );
  });
});
