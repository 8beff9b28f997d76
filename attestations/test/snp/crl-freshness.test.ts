/**
 * Revocation is decided on the newest authentic CRL known, not the one the
 * evidence happens to carry: an older, still-unexpired CRL from before a
 * revocation, swapped into the evidence, cannot hide it once the verifier's
 * collateral source knows the newer one. A CRL past its nextUpdate is refused
 * unless the policy grants a grace period, and then the acceptance says so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appraise, type CollateralSource } from '../../src/evidence/index.js';
import { SNP_CERT_GUIDS, serializeSnpCertTable } from '../../src/snp/index.js';
import { devPki, simulator, trustWithDev } from '@veritee/mock';

const DAY = 86_400_000;
const before = new Date('2026-06-01T12:00:00Z');
const after = new Date(before.getTime() + 2 * DAY);
const askSerial = devPki.snp.Milan.ask.certificate.serialNumber;

/** Evidence at `after` whose certificate table carries `crl` instead of its own. */
async function evidenceCarrying(crl: Uint8Array) {
  const { reportBytes, endorsement } = await simulator.snp({ at: after, product: 'Milan' });
  const table = serializeSnpCertTable([
    { guid: SNP_CERT_GUIDS.VCEK, data: endorsement.der },
    { guid: SNP_CERT_GUIDS.CRL, data: crl },
  ]);
  const evidence = new Uint8Array(reportBytes.length + table.length);
  evidence.set(reportBytes);
  evidence.set(table, reportBytes.length);
  return evidence;
}

const source = (crl: Uint8Array | undefined): CollateralSource => ({
  vcek: () => Promise.resolve(undefined),
  crl: () => Promise.resolve(crl),
});

describe('CRL freshness', () => {
  it('cannot hide a revocation behind an older CRL carried in the evidence', async () => {
    const [oldCrl] = (await simulator.snp({ at: before, product: 'Milan' })).crls;
    const [newCrl] = (await simulator.snp({ at: after, product: 'Milan', revoked: [askSerial] }))
      .crls;
    const evidence = await evidenceCarrying(oldCrl!);
    const options = { at: after, trust: trustWithDev, allowSimulated: true };
    // Knowing only the old CRL, the chain looks unrevoked: the swap works on a verifier without collateral...
    assert.equal((await appraise({ evidence }, options)).verdict, 'accept');
    // ...and not on one whose collateral source knows the newer CRL.
    const verdict = await appraise({ evidence }, { ...options, collateral: source(newCrl) });
    assert.deepEqual([verdict.verdict, verdict.codes], ['reject', ['SNP_CERT_REVOKED']]);
    // The newer CRL wins whichever way it arrives.
    const given = await appraise({ evidence, crls: [newCrl!] }, options);
    assert.deepEqual(given.codes, ['SNP_CERT_REVOKED']);
  });

  it('refuses a CRL past its nextUpdate, unless the policy grants a grace period, then warns', async () => {
    const [crl] = (await simulator.snp({ at: before, product: 'Milan' })).crls;
    const evidence = await evidenceCarrying(crl!);
    // The simulator's CRLs are good for 8 days: ten days on, it is two days stale.
    const late = new Date(before.getTime() + 10 * DAY);
    const options = { at: late, trust: trustWithDev, allowSimulated: true };
    const strict = await appraise({ evidence }, options);
    assert.deepEqual(strict.codes, ['SNP_CRL_INVALID']);
    const tooShort = await appraise(
      { evidence },
      { ...options, policy: { snp: { crlGraceSeconds: DAY / 1000 } } },
    );
    assert.deepEqual(tooShort.codes, ['SNP_CRL_INVALID']);
    const graced = await appraise(
      { evidence },
      { ...options, policy: { snp: { crlGraceSeconds: (3 * DAY) / 1000 } } },
    );
    assert.ok(graced.verdict === 'accept', graced.codes.join());
    assert.deepEqual(graced.warnings, ['SNP_CRL_STALE']);
  });
});
