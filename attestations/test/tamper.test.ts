/**
 * Tamper tables derived in code from every real vector: each byte of an SNP
 * report, bytes across each Nitro document, truncations, extensions and
 * certificate swaps. Every case must reach a typed rejection, never an accept.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVeriteeError } from '../src/index.js';
import { appraise, defaultTrustStore, parseCertificate } from '../src/evidence/index.js';
import { parseNitroDocument, verifyNitro } from '../src/nitro/index.js';
import { parseSnpReport, verifySnp } from '../src/snp/index.js';
import { vectors, vectorFile, type Vector } from '@veritee/mock/vectors';

const snpVectors = vectors.filter(
  (vector) => vector.format === 'sev-snp' && vector.expect === 'accept',
);
const nitroVectors = vectors.filter(
  (vector) => vector.format === 'nitro' && vector.expect === 'accept',
);

/** The code a single flipped bit at `offset` must produce in a report of `vector`. */
function expectedSnpCodes(offset: number, vector: Vector, version: number): readonly string[] {
  const inRange = (start: number, end: number) => offset >= start && offset < end;
  const reserved = [
    [0x4c, 0x50],
    version === 2 ? [0x188, 0x1a0] : [0x18b, 0x1a0],
    [0x1eb, 0x1ec],
    [0x1ef, 0x1f0],
    version === 5 ? [0x208, 0x2a0] : [0x1f8, 0x2a0],
    [0x330, 0x4a0],
  ] as const;
  if (reserved.some(([start, end]) => inRange(start, end))) return ['SNP_REPORT_RESERVED_NONZERO'];
  if (inRange(0, 4))
    return offset === 0
      ? [
          'SNP_REPORT_VERSION_UNSUPPORTED',
          'SNP_REPORT_RESERVED_NONZERO',
          'SNP_REPORT_BAD_SIGNATURE',
        ]
      : ['SNP_REPORT_VERSION_UNSUPPORTED'];
  if (inRange(0x34, 0x38)) return ['SNP_SIGNATURE_ALGORITHM_UNSUPPORTED'];
  if (inRange(0x49, 0x4c)) return ['SNP_REPORT_RESERVED_NONZERO'];
  if (inRange(0x180, 0x188)) return ['SNP_TCB_MISMATCH'];
  if (inRange(0x188, 0x18b)) return ['SNP_PRODUCT_MISMATCH', 'SNP_REPORT_BAD_SIGNATURE'];
  if (inRange(0x1a0, 0x1e0) && vector.fields?.['signing_key'] === 'VCEK')
    return ['SNP_CHIP_ID_MISMATCH'];
  return ['SNP_REPORT_BAD_SIGNATURE'];
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isVeriteeError(error), `untyped error: ${String(error)}`);
    return error.code;
  }
  return 'ACCEPTED';
}

describe('tampered SEV-SNP evidence', () => {
  for (const vector of snpVectors) {
    it(`rejects a flipped bit in every byte of ${vector.id} with the field's code`, () => {
      const bytes = vectorFile(vector.evidence);
      const endorsement = parseCertificate(vectorFile(vector.endorsement ?? ''));
      const options = { trust: defaultTrustStore(), at: new Date(vector.verify_at) };
      const version = parseSnpReport(bytes).version;
      const wrong: string[] = [];
      for (let offset = 0; offset < bytes.length; offset++) {
        const tampered = Uint8Array.from(bytes);
        tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
        const code = codeOf(() => verifySnp(parseSnpReport(tampered), endorsement, options));
        if (!expectedSnpCodes(offset, vector, version).includes(code))
          wrong.push(`0x${offset.toString(16)}: ${code}`);
      }
      assert.deepEqual(wrong, []);
    });

    it(`rejects ${vector.id} truncated to every length and extended`, async () => {
      const bytes = vectorFile(vector.evidence);
      const at = new Date(vector.verify_at);
      const endorsement = vectorFile(vector.endorsement ?? '');
      for (let length = 0; length < bytes.length; length++) {
        const verdict = await appraise(
          { evidence: bytes.subarray(0, length), endorsement },
          { at, policy: { allowDebug: true, allowUncheckedRevocation: true } },
        );
        assert.equal(verdict.verdict, 'reject');
        assert.ok(
          ['EVIDENCE_FORMAT_UNKNOWN', 'SNP_REPORT_SIZE'].includes(verdict.codes[0] ?? ''),
          `${length}: ${verdict.codes.join()}`,
        );
      }
      for (const extra of [1, 23, 24, 100]) {
        const extended = new Uint8Array(bytes.length + extra).fill(0xff);
        extended.set(bytes);
        const verdict = await appraise({ evidence: extended, endorsement }, { at });
        assert.deepEqual(verdict.codes, ['SNP_CERT_TABLE_MALFORMED']);
      }
    });

    it(`rejects ${vector.id} with every other vector's endorsement`, () => {
      const report = parseSnpReport(vectorFile(vector.evidence));
      for (const other of snpVectors.filter(
        (candidate) => candidate.endorsement !== vector.endorsement,
      )) {
        const code = codeOf(() =>
          verifySnp(report, parseCertificate(vectorFile(other.endorsement ?? '')), {
            trust: defaultTrustStore(),
            at: new Date(vector.verify_at),
          }),
        );
        assert.notEqual(code, 'ACCEPTED', other.id);
      }
    });
  }
});

const NITRO_CODES = [
  'NITRO_DOCUMENT_MALFORMED',
  'NITRO_DOCUMENT_FIELD_INVALID',
  'NITRO_DOCUMENT_FIELD_UNKNOWN',
  'NITRO_COSE_ALGORITHM_UNSUPPORTED',
  'NITRO_COSE_BAD_SIGNATURE',
  'NITRO_CHAIN_UNTRUSTED',
  'NITRO_CHAIN_BROKEN',
  'NITRO_CERT_BAD_SIGNATURE',
  'NITRO_CERT_NOT_YET_VALID',
  'NITRO_CERT_EXPIRED',
  'NITRO_LEAF_KEY_INVALID',
  'X509_MALFORMED',
];

describe('tampered Nitro evidence', () => {
  for (const vector of nitroVectors) {
    // Every byte of one document; every 11th of the others keeps the suite quick.
    const stride = vector.id === 'nitro-evervault-2022-10-13-nonce' ? 1 : 11;
    it(`rejects a flipped bit across ${vector.id} (stride ${stride})`, () => {
      const bytes = vectorFile(vector.evidence);
      const options = { trust: defaultTrustStore(), at: new Date(vector.verify_at) };
      const wrong: string[] = [];
      for (let offset = 0; offset < bytes.length; offset += stride) {
        const tampered = Uint8Array.from(bytes);
        tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
        const code = codeOf(() => verifyNitro(parseNitroDocument(tampered), options));
        if (!NITRO_CODES.includes(code)) wrong.push(`0x${offset.toString(16)}: ${code}`);
      }
      assert.deepEqual(wrong, []);
    });

    it(`rejects ${vector.id} truncated to every length`, () => {
      const bytes = vectorFile(vector.evidence);
      for (let length = 0; length < bytes.length; length++) {
        const code = codeOf(() => parseNitroDocument(bytes.subarray(0, length)));
        assert.ok(
          ['NITRO_DOCUMENT_SIZE', 'NITRO_DOCUMENT_MALFORMED'].includes(code),
          `${length}: ${code}`,
        );
      }
    });

    it(`rejects ${vector.id} with the leaf or cabundle of every other document`, () => {
      const document = parseNitroDocument(vectorFile(vector.evidence));
      const options = { trust: defaultTrustStore(), at: new Date(vector.verify_at) };
      for (const other of nitroVectors.filter((candidate) => candidate !== vector)) {
        const donor = parseNitroDocument(vectorFile(other.evidence)).payload;
        for (const swap of [{ certificate: donor.certificate }, { cabundle: donor.cabundle }]) {
          const code = codeOf(() =>
            verifyNitro({ ...document, payload: { ...document.payload, ...swap } }, options),
          );
          assert.ok(NITRO_CODES.includes(code), `${other.id} ${Object.keys(swap).join()}: ${code}`);
        }
      }
    });
  }
});
