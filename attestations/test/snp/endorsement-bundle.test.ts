/**
 * Endorsements come as DER, PEM or PEM bundles (the VCEK with its ASK and ARK,
 * in any order): each form of a real VCEK verifies, and a bundle's own CAs
 * never stand in for the pinned AMD roots.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EvidenceError } from '../../src/index.js';
import { appraise, AMD_ROOTS } from '../../src/evidence/index.js';
import { parseEndorsement } from '../../src/snp/index.js';
import { parseCrl } from '../../src/evidence/index.js';
import { vectors, vectorFile, REAL_SNP_POLICY } from '@veritee/mock/vectors';
import { AT, simulator } from '@veritee/mock';

const pem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;

const vector = vectors.find(
  (candidate) =>
    candidate.format === 'sev-snp' &&
    candidate.expect === 'accept' &&
    candidate.product === 'Milan' &&
    candidate.endorsement !== undefined &&
    candidate.fields?.['signing_key'] === 'VCEK' &&
    candidate.debug !== true,
)!;
const vcek = vectorFile(vector.endorsement!);
const { ask, ark } = AMD_ROOTS.Milan;

describe('parseEndorsement', () => {
  const forms: Array<[string, Uint8Array | string]> = [
    ['DER', vcek],
    ['PEM', pem(vcek)],
    ['a bundle, leaf first', pem(vcek) + ask.pem + ark.pem],
    ['a bundle, leaf last', `${ask.pem}\n${ark.pem}\n${pem(vcek)}`],
    ['a bundle, leaf between', `${ark.pem}\n${pem(vcek)}${ask.pem}`],
  ];
  for (const [form, endorsement] of forms)
    it(`accepts a real VCEK as ${form}, and the evidence verifies with it`, async () => {
      assert.equal(parseEndorsement(endorsement).fingerprint, parseEndorsement(vcek).fingerprint);
      const verdict = await appraise(
        { evidence: vectorFile(vector.evidence), endorsement, product: vector.product },
        { at: new Date(vector.verify_at), policy: REAL_SNP_POLICY },
      );
      assert.equal(verdict.verdict, 'accept', verdict.codes.join());
    });

  it('refuses a bundle with no leaf, or two', () => {
    for (const bundle of [ask.pem + ark.pem, pem(vcek) + pem(vcek) + ark.pem])
      assert.throws(
        () => parseEndorsement(bundle),
        (error: unknown) =>
          error instanceof EvidenceError && error.code === 'SNP_ENDORSEMENT_MISSING',
      );
  });

  it('refuses a DER VCEK or CRL with bytes after its encoding, which would give one certificate many spellings', async () => {
    const der = parseEndorsement(vcek).der;
    assert.doesNotThrow(() => parseEndorsement(der));
    for (const tail of [[0], [0x30, 0x00], new Array<number>(64).fill(0)])
      assert.throws(
        () => parseEndorsement(new Uint8Array([...der, ...tail])),
        (error: unknown) => error instanceof EvidenceError && error.code === 'X509_MALFORMED',
      );
    const [crl] = (await simulator.snp({ at: AT, product: 'Milan' })).crls;
    assert.ok(crl);
    assert.doesNotThrow(() => parseCrl(crl));
    assert.throws(
      () => parseCrl(new Uint8Array([...crl, 0])),
      (error: unknown) => error instanceof EvidenceError && error.code === 'CRL_MALFORMED',
    );
  });

  it('refuses a bundle whose chain ends at another root, whatever CAs it carries', async () => {
    const { reportBytes, endorsement } = await simulator.snp({
      at: AT,
      product: 'Milan',
      version: 3,
    });
    // The simulator's VCEK, bundled with the real AMD ASK and ARK: the bundle names AMD, its chain does not.
    for (const bundle of [pem(endorsement.der) + ask.pem + ark.pem, pem(endorsement.der)]) {
      const verdict = await appraise(
        { evidence: reportBytes, endorsement: bundle, product: 'Milan' },
        { at: AT, policy: { allowUncheckedRevocation: true } },
      );
      assert.equal(verdict.verdict, 'reject');
      assert.deepEqual(verdict.codes, ['SNP_CHAIN_UNTRUSTED']);
    }
  });
});
