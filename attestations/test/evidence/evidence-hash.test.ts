/**
 * One quote has one evidence hash, whatever the bytes the signature does not
 * pin down: an SNP report with its s rewritten as n - s, with or without its
 * certificate table; a Nitro document tagged or not, its s rewritten too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/index.js';
import { appraise } from '../../src/evidence/index.js';
import { parseNitroDocument, serializeNitroDocument } from '../../src/nitro/index.js';
import { parseSnpReport, serializeSnpReport, SNP_REPORT_SIZE } from '../../src/snp/index.js';
import { AT, simulator, trustWithDev } from '@veritee/mock';

const N = BigInt(
  '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
);
const flip = (s: bigint) => N - s;
const le = (bytes: Uint8Array) => BigInt(`0x${Buffer.from([...bytes].reverse()).toString('hex')}`);
const toLe = (value: bigint, length: number) =>
  new Uint8Array(Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex')).reverse();

async function hashOf(evidence: Uint8Array, endorsement?: Uint8Array) {
  const verdict = await appraise(
    { evidence, endorsement },
    {
      at: AT,
      trust: trustWithDev,
      allowSimulated: true,
      policy: { allowUncheckedRevocation: true },
    },
  );
  assert.ok(verdict.verdict === 'accept', verdict.codes.join());
  return toHex(verdict.claims.evidenceHash);
}

describe('canonicalEvidenceHash', () => {
  it('gives an SNP quote one hash, with its s malleated and with or without its certificate table', async () => {
    const { evidence, endorsement } = await simulator.snp({ at: AT });
    const report = parseSnpReport(evidence.subarray(0, SNP_REPORT_SIZE));
    const malleated = serializeSnpReport({
      ...report,
      signatureS: toLe(flip(le(report.signatureS)), report.signatureS.byteLength),
    });
    const withTable = new Uint8Array(evidence);
    withTable.set(malleated);
    const hashes = new Set([
      await hashOf(evidence),
      await hashOf(withTable),
      await hashOf(malleated, endorsement.der),
    ]);
    assert.equal(hashes.size, 1, 'the malleated signature verifies and hashes the same');
    const other = await simulator.snp({ at: AT });
    assert.notEqual(await hashOf(other.evidence), [...hashes][0], 'another quote hashes apart');
  });

  it('gives a Nitro document one hash, tagged or not and with its s malleated', async () => {
    const { evidence } = await simulator.nitro({ at: AT, tagged: true });
    const document = parseNitroDocument(evidence);
    const signature = new Uint8Array(document.signature);
    const s = BigInt(`0x${Buffer.from(signature.subarray(48)).toString('hex')}`);
    signature.set(Buffer.from(flip(s).toString(16).padStart(96, '0'), 'hex'), 48);
    const variants = [
      evidence,
      serializeNitroDocument({ ...document, tagged: false }),
      serializeNitroDocument({ ...document, signature }),
    ];
    const hashes = new Set(await Promise.all(variants.map((variant) => hashOf(variant))));
    assert.equal(hashes.size, 1);
  });
});
