import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, Tag } from 'cbor2';
import { EvidenceError } from '../../src/index.js';
import {
  coseSign1ToBeSigned,
  COSE_ALG_ES384,
  COSE_SIGN1_TAG,
  parseNitroDocument,
  serializeNitroDocument,
  NITRO_DOCUMENT_MAX_SIZE,
} from '../../src/nitro/index.js';
import { nitroFields } from '../../src/evidence/appraise.js';
import { vectors, vectorFile, vectorById } from '@veritee/mock/vectors';

const realDocuments = vectors.filter(
  (vector) => vector.format === 'nitro' && vector.expect === 'accept',
);
const good = vectorFile(vectorById('nitro-evervault-2022-10-13-nonce').evidence);
const parsed = parseNitroDocument(good);

function assertCode(bytes: Uint8Array, code: string): void {
  assert.throws(
    () => parseNitroDocument(bytes),
    (error: unknown) => error instanceof EvidenceError && error.code === code,
    `expected ${code}`,
  );
}

/** The good document with its payload map changed by `edit` (unsigned: parse-only tests). */
function withPayload(edit: (payload: Map<string, unknown>) => void): Uint8Array {
  const map = decode<Map<string, unknown>>(parsed.payloadBytes, { preferMap: true });
  edit(map);
  return encode([parsed.protectedHeader, new Map(), encode(map), parsed.signature]);
}

describe('parseNitroDocument', () => {
  for (const vector of realDocuments) {
    it(`parses ${vector.id} into the published fields and serializes it back byte for byte`, () => {
      const bytes = vectorFile(vector.evidence);
      const document = parseNitroDocument(bytes);
      const fields = nitroFields(document);
      for (const [name, value] of Object.entries(vector.fields ?? {}))
        assert.equal(fields[name], value, name);
      assert.deepEqual(serializeNitroDocument(document), bytes);
      assert.deepEqual(parseNitroDocument(serializeNitroDocument(document)), document);
    });
  }

  it('accepts the tagged form (COSE tag 18) with the same content', () => {
    const tagged = encode(
      new Tag(18, [parsed.protectedHeader, new Map(), parsed.payloadBytes, parsed.signature]),
    );
    const document = parseNitroDocument(tagged);
    assert.equal(document.tagged, true);
    assert.deepEqual(document.payload, parsed.payload);
    assert.deepEqual(serializeNitroDocument(document), tagged);
  });

  it('reads the nonce and the absent user data and public key', () => {
    assert.equal(parsed.payload.nonce?.byteLength, 256);
    assert.equal(parsed.payload.userData, null);
    assert.equal(parsed.payload.publicKey, null);
    assert.equal(parsed.payload.pcrs.size, 16);
  });

  describe('when the COSE structure is malformed', () => {
    it('rejects empty and oversized input', () => {
      assertCode(new Uint8Array(0), 'NITRO_DOCUMENT_SIZE');
      assertCode(new Uint8Array(NITRO_DOCUMENT_MAX_SIZE + 1).fill(0x84), 'NITRO_DOCUMENT_SIZE');
    });

    it('rejects another tag, another shape and a non-empty unprotected header', () => {
      const items = [parsed.protectedHeader, new Map(), parsed.payloadBytes, parsed.signature];
      assertCode(encode(new Tag(98, items)), 'NITRO_DOCUMENT_MALFORMED');
      assertCode(encode(items.slice(0, 3)), 'NITRO_DOCUMENT_MALFORMED');
      assertCode(encode(new Map([[1, 2]])), 'NITRO_DOCUMENT_MALFORMED');
      assertCode(
        encode([
          parsed.protectedHeader,
          new Map([[4, new Uint8Array(1)]]),
          parsed.payloadBytes,
          parsed.signature,
        ]),
        'NITRO_DOCUMENT_MALFORMED',
      );
      assertCode(
        encode(['text', new Map(), parsed.payloadBytes, parsed.signature]),
        'NITRO_DOCUMENT_MALFORMED',
      );
    });

    it('rejects trailing bytes and indefinite-length items', () => {
      assertCode(new Uint8Array([...good, 0]), 'NITRO_DOCUMENT_MALFORMED');
      assertCode(new Uint8Array([0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff]), 'NITRO_DOCUMENT_MALFORMED');
    });

    it('rejects deep nesting without exhausting the stack', () => {
      const bomb = new Uint8Array(20_000).fill(0x81);
      assertCode(bomb, 'NITRO_DOCUMENT_MALFORMED');
      const payloadBomb = encode([
        parsed.protectedHeader,
        new Map(),
        new Uint8Array(20_000).fill(0x81),
        parsed.signature,
      ]);
      assertCode(payloadBomb, 'NITRO_DOCUMENT_MALFORMED');
    });

    it('rejects an algorithm other than ES384', () => {
      const es256 = encode([
        encode(new Map([[1, -7]])),
        new Map(),
        parsed.payloadBytes,
        parsed.signature,
      ]);
      assertCode(es256, 'NITRO_COSE_ALGORITHM_UNSUPPORTED');
    });

    it('rejects a signature that is not 96 bytes', () => {
      assertCode(
        encode([
          parsed.protectedHeader,
          new Map(),
          parsed.payloadBytes,
          parsed.signature.subarray(0, 95),
        ]),
        'NITRO_DOCUMENT_FIELD_INVALID',
      );
    });
  });

  describe('when a payload field is wrong', () => {
    const cases: Array<[string, (payload: Map<string, unknown>) => void, string]> = [
      ['an unknown field', (p) => p.set('extra', 1), 'NITRO_DOCUMENT_FIELD_UNKNOWN'],
      ['a missing module_id', (p) => p.delete('module_id'), 'NITRO_DOCUMENT_FIELD_INVALID'],
      ['an empty module_id', (p) => p.set('module_id', ''), 'NITRO_DOCUMENT_FIELD_INVALID'],
      [
        'a digest other than SHA384',
        (p) => p.set('digest', 'SHA256'),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      [
        'a text timestamp',
        (p) => p.set('timestamp', '1665651482136'),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      ['a negative timestamp', (p) => p.set('timestamp', -1), 'NITRO_DOCUMENT_FIELD_INVALID'],
      [
        'a PCR of 32 bytes',
        (p) => p.set('pcrs', new Map([[0, new Uint8Array(32)]])),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      [
        'a PCR index of 32',
        (p) => p.set('pcrs', new Map([[32, new Uint8Array(48)]])),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      ['an empty PCR map', (p) => p.set('pcrs', new Map()), 'NITRO_DOCUMENT_FIELD_INVALID'],
      ['a text certificate', (p) => p.set('certificate', 'MII'), 'NITRO_DOCUMENT_FIELD_INVALID'],
      ['an empty cabundle', (p) => p.set('cabundle', []), 'NITRO_DOCUMENT_FIELD_INVALID'],
      ['a cabundle of text', (p) => p.set('cabundle', ['x']), 'NITRO_DOCUMENT_FIELD_INVALID'],
      [
        'user data over 512 bytes',
        (p) => p.set('user_data', new Uint8Array(513)),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      [
        'a nonce over 512 bytes',
        (p) => p.set('nonce', new Uint8Array(513)),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      [
        'a public key over 1024 bytes',
        (p) => p.set('public_key', new Uint8Array(1025)),
        'NITRO_DOCUMENT_FIELD_INVALID',
      ],
      ['a text nonce', (p) => p.set('nonce', 'abc'), 'NITRO_DOCUMENT_FIELD_INVALID'],
      ['a float timestamp', (p) => p.set('timestamp', 1.5), 'NITRO_DOCUMENT_MALFORMED'],
    ];
    for (const [name, edit, code] of cases) {
      it(`rejects ${name}`, () => assertCode(withPayload(edit), code));
    }

    it('rejects an outer array length, a byte-string length or an integer in a longer form than needed', () => {
      // 0x84 (array of 4) spelled 0x98 0x04: same value, one byte longer.
      assertCode(
        new Uint8Array([0x98, 0x04, ...good.subarray(good[0] === 0xd2 ? 2 : 1)]),
        'NITRO_DOCUMENT_MALFORMED',
      );
      const longLength = (bytes: Uint8Array) => {
        // A byte string of the header's length spelled with a 2-byte length.
        const header = encode(bytes);
        return new Uint8Array([
          0x59,
          bytes.byteLength >> 8,
          bytes.byteLength & 0xff,
          ...header.subarray(header.byteLength - bytes.byteLength),
        ]);
      };
      const sign1 = (protectedHeader: Uint8Array) =>
        new Uint8Array([
          0x84,
          ...protectedHeader,
          0xa0,
          ...encode(parsed.payloadBytes),
          ...encode(parsed.signature),
        ]);
      assert.doesNotThrow(() => parseNitroDocument(sign1(encode(parsed.protectedHeader))));
      assertCode(sign1(longLength(parsed.protectedHeader)), 'NITRO_DOCUMENT_MALFORMED');
      // A timestamp of 0x1234 spelled with four bytes (0x1a) instead of two (0x19).
      const map = decode<Map<string, unknown>>(parsed.payloadBytes, { preferMap: true });
      map.set('timestamp', 0x1234);
      const payload = encode(map);
      const at = Buffer.from(payload).indexOf(Buffer.from([0x19, 0x12, 0x34]));
      assert.ok(at > 0);
      const widened = new Uint8Array([
        ...payload.subarray(0, at),
        0x1a,
        0,
        0,
        0x12,
        0x34,
        ...payload.subarray(at + 3),
      ]);
      assertCode(
        encode([parsed.protectedHeader, new Map(), widened, parsed.signature]),
        'NITRO_DOCUMENT_MALFORMED',
      );
    });

    it('rejects a payload that repeats a key under a longer spelling', () => {
      // {"digest": "", "digest" with a 1-byte length: ""}: the second copy would win.
      const duplicate = new Uint8Array([
        0xa2,
        0x66,
        ...Buffer.from('digest'),
        0x60,
        0x78,
        0x06,
        ...Buffer.from('digest'),
        0x60,
      ]);
      assertCode(
        encode([parsed.protectedHeader, new Map(), duplicate, parsed.signature]),
        'NITRO_DOCUMENT_MALFORMED',
      );
    });

    it('rejects a payload that repeats a key', () => {
      // A CBOR map of two entries, both "digest".
      const duplicate = new Uint8Array([
        0xa2,
        0x66,
        ...Buffer.from('digest'),
        0x60,
        0x66,
        ...Buffer.from('digest'),
        0x60,
      ]);
      assertCode(
        encode([parsed.protectedHeader, new Map(), duplicate, parsed.signature]),
        'NITRO_DOCUMENT_MALFORMED',
      );
    });
  });
});

describe('serializeNitroDocument', () => {
  it('writes the bytes cbor2 encodes for the COSE_Sign1, tagged or not, at every length boundary', () => {
    for (const tagged of [false, true])
      for (const headerLength of [1, 23, 24, 255, 256])
        for (const payloadLength of [1, 23, 24, 255, 256, 65_535, 65_536, 70_000]) {
          const protectedHeader = new Uint8Array(headerLength).fill(0xa1);
          const payloadBytes = new Uint8Array(payloadLength).fill(0x5c);
          const signature = new Uint8Array(96).fill(0x33);
          const sign1 = [protectedHeader, new Map(), payloadBytes, signature];
          assert.deepEqual(
            serializeNitroDocument({
              tagged,
              protectedHeader,
              algorithm: COSE_ALG_ES384,
              payloadBytes,
              signature,
              payload: undefined as never,
            }),
            encode(tagged ? new Tag(COSE_SIGN1_TAG, sign1) : sign1),
            `${tagged}/${headerLength}/${payloadLength}`,
          );
        }
  });
});

describe('coseSign1ToBeSigned', () => {
  it('writes the bytes cbor2 encodes for ["Signature1", protected, h\'\', payload], at every length boundary', () => {
    for (const protectedLength of [0, 1, 23, 24, 255, 256])
      for (const payloadLength of [0, 23, 24, 255, 256, 65_535, 65_536, 70_000]) {
        const protectedHeader = new Uint8Array(protectedLength).fill(0xa1);
        const payload = new Uint8Array(payloadLength).fill(0x5c);
        assert.deepEqual(
          new Uint8Array(coseSign1ToBeSigned(protectedHeader, payload)),
          encode(['Signature1', protectedHeader, new Uint8Array(0), payload]),
          `${protectedLength}/${payloadLength}`,
        );
      }
  });
});
