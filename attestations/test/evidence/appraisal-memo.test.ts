/**
 * Remembered verifications: reused only where they would come out the same.
 * Every appraisal through a memo is compared with one made without it, at
 * times on both sides of each edge of the window (certificate validity, CRL
 * currency, the CRL grace period), with other policies, trust stores and
 * CRLs; and the memo is shown to have answered, so the comparison is real.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AT, devPki, simulator, trustWithDev } from '@veritee/mock';
import { vectors, vectorFile, REAL_SNP_POLICY } from '@veritee/mock/vectors';
import {
  appraise,
  createAppraisalMemo,
  defaultTrustStore,
  parseCrl,
  type Appraisal,
  type AppraiseOptions,
  type AppraisalMemo,
  type EvidenceInput,
} from '../../src/evidence/index.js';

const DAY = 86_400_000;

/** What a relying party decides on: the verdict, every code, warnings and claims. */
const decision = (appraisal: Appraisal) => ({
  verdict: appraisal.verdict,
  codes: appraisal.codes,
  simulated: appraisal.simulated,
  fields: appraisal.fields,
  ...(appraisal.verdict === 'accept'
    ? { warnings: appraisal.warnings, claims: appraisal.claims }
    : {}),
});

/** Appraises through `memo` and without it; asserts both decide alike, returns the decision. */
async function alike(input: EvidenceInput, options: AppraiseOptions, memo: AppraisalMemo) {
  const fresh = await appraise(input, options);
  const remembered = await appraise(input, { ...options, memo });
  assert.deepEqual(decision(remembered), decision(fresh), `at ${options.at.toISOString()}`);
  return remembered;
}

const simulated = (at: Date, memoOptions: Partial<AppraiseOptions> = {}): AppraiseOptions => ({
  at,
  trust: trustWithDev,
  allowSimulated: true,
  policy: {},
  ...memoOptions,
});

describe('remembered verifications', () => {
  it('decide as a fresh appraisal at each side of every SNP window edge, and answer within it', async () => {
    const { evidence, endorsement, crls } = await simulator.snp({
      at: AT,
      reportData: new Uint8Array(64).fill(1),
    });
    const crl = parseCrl(crls[0]!);
    const nextUpdate = crl.nextUpdate!.getTime();
    const memo = createAppraisalMemo();
    const times = [
      AT.getTime(),
      endorsement.notBefore.getTime() - 1,
      endorsement.notBefore.getTime(),
      AT.getTime() + 1,
      crl.thisUpdate.getTime() - 1,
      crl.thisUpdate.getTime(),
      nextUpdate,
      nextUpdate + 1,
      AT.getTime(),
    ];
    for (const at of times) await alike({ evidence, crls }, simulated(new Date(at)), memo);
    const hitsBefore = memo.hits;
    const verdict = await alike({ evidence, crls }, simulated(AT), memo);
    assert.equal(verdict.verdict, 'accept');
    assert.ok(memo.hits > hitsBefore, 'the memo answered inside the window');

    // Inside a grace period the verdict warns, and the warning is remembered with its window.
    const grace = { snp: { crlGraceSeconds: 3600 } };
    for (const at of [nextUpdate + 1, nextUpdate + 3_600_000, nextUpdate + 3_600_001, AT.getTime()])
      await alike({ evidence, crls }, simulated(new Date(at), { policy: grace }), memo);
    const stale = await appraise(
      { evidence, crls },
      simulated(new Date(nextUpdate + 1000), { policy: grace, memo }),
    );
    assert.deepEqual(stale.verdict === 'accept' && stale.warnings, ['SNP_CRL_STALE']);
  });

  it('decide as a fresh appraisal for a Nitro document on both sides of its leaf validity', async () => {
    const at = AT;
    const leafValidity = { notBefore: new Date(at.getTime() - DAY), notAfter: at };
    const { evidence } = await simulator.nitro({ at, leafValidity });
    const memo = createAppraisalMemo();
    for (const time of [at.getTime(), at.getTime() + 1, at.getTime() - DAY - 1, at.getTime()])
      await alike({ evidence }, simulated(new Date(time)), memo);
    // The policy is evaluated anew: the same verification, too old for a strict policy.
    const strict = { maxEvidenceAgeSeconds: 60 };
    const later = new Date(at.getTime() - DAY / 2);
    await alike({ evidence }, simulated(later, { policy: strict }), memo);
    assert.ok(memo.hits > 0);
  });

  it('evaluate each policy anew, and never reuse across trust stores, simulation or CRLs', async () => {
    const { evidence, crls } = await simulator.snp({
      at: AT,
      reportData: new Uint8Array(64).fill(2),
    });
    const memo = createAppraisalMemo();
    assert.equal((await alike({ evidence }, simulated(AT), memo)).verdict, 'accept');
    const other = { snp: { measurements: ['00'.repeat(48)] } };
    const refused = await alike({ evidence }, simulated(AT, { policy: other }), memo);
    assert.equal(refused.verdict, 'reject');
    const notAllowed = await alike({ evidence }, simulated(AT, { allowSimulated: false }), memo);
    assert.deepEqual(notAllowed.codes, ['SNP_SIMULATED_NOT_ALLOWED']);
    const realRoots = await alike(
      { evidence },
      simulated(AT, { trust: defaultTrustStore() }),
      memo,
    );
    assert.deepEqual(realRoots.codes, ['SNP_CHAIN_UNTRUSTED']);
    // A newer CRL given beside the evidence revokes its ASK.
    const { crls: revoking } = await simulator.snp({
      at: new Date(AT.getTime() + DAY),
      revoked: [devPki.snp.Milan.ask.certificate.serialNumber],
    });
    const revoked = await alike(
      { evidence, crls: [...crls, ...revoking] },
      simulated(new Date(AT.getTime() + DAY)),
      memo,
    );
    assert.deepEqual(revoked.codes, ['SNP_CERT_REVOKED']);
  });

  it('decide as a fresh appraisal on every real vector, and on a collateral source are not used', async () => {
    const memo = createAppraisalMemo();
    for (const vector of vectors) {
      const input = {
        evidence: vectorFile(vector.evidence),
        endorsement: vector.endorsement === undefined ? undefined : vectorFile(vector.endorsement),
        product: vector.product,
      };
      const options = {
        at: new Date(vector.verify_at),
        policy: { ...REAL_SNP_POLICY, allowDebug: true },
      };
      await alike(input, options, memo);
      await alike(input, options, memo);
    }
    assert.ok(memo.hits >= vectors.filter((vector) => vector.expect === 'accept').length);
    const hits = memo.hits;
    const { evidence } = await simulator.snp({ at: AT });
    const source = {
      vcek: () => Promise.resolve(undefined),
      crl: () => Promise.resolve(undefined),
    };
    await appraise({ evidence }, simulated(AT, { memo, collateral: source }));
    await appraise({ evidence }, simulated(AT, { memo, collateral: source }));
    assert.equal(memo.hits, hits);
  });

  it('verify a batch that arrives at once only once, and share no failure nor a verification out of its window', async () => {
    const { evidence, crls } = await simulator.snp({
      at: AT,
      reportData: new Uint8Array(64).fill(30),
    });
    const memo = createAppraisalMemo();
    const batch = await Promise.all(
      Array.from({ length: 8 }, () => appraise({ evidence, crls }, simulated(AT, { memo }))),
    );
    assert.deepEqual(
      batch.map((appraisal) => appraisal.verdict),
      Array.from({ length: 8 }, () => 'accept'),
    );
    assert.equal(memo.hits, 7, 'the first verification answered the seven made while it ran');

    // Made while a verification at AT runs, an appraisal past the CRL's nextUpdate decides for itself.
    const late = new Date(parseCrl(crls[0]!).nextUpdate!.getTime() + 1000);
    const fresh = createAppraisalMemo();
    const [now, later] = await Promise.all([
      appraise({ evidence, crls }, simulated(AT, { memo: fresh })),
      appraise({ evidence, crls }, simulated(late, { memo: fresh })),
    ]);
    assert.equal(now.verdict, 'accept');
    assert.deepEqual(
      decision(later),
      decision(await appraise({ evidence, crls }, simulated(late))),
    );
    assert.deepEqual(later.codes, ['SNP_CRL_INVALID']);

    const forged = new Uint8Array(evidence);
    forged[0x50]! ^= 1;
    const refused = createAppraisalMemo();
    const verdicts = await Promise.all(
      Array.from({ length: 4 }, () =>
        appraise({ evidence: forged }, simulated(AT, { memo: refused })),
      ),
    );
    for (const verdict of verdicts) assert.deepEqual(verdict.codes, ['SNP_REPORT_BAD_SIGNATURE']);
    assert.equal(refused.size, 0);
  });

  it('keep only what verified, within their bound', async () => {
    const memo = createAppraisalMemo(2);
    for (let fill = 0; fill < 5; fill++) {
      const { evidence } = await simulator.snp({
        at: AT,
        reportData: new Uint8Array(64).fill(10 + fill),
      });
      await appraise({ evidence }, simulated(AT, { memo }));
      assert.ok(memo.size <= 2);
    }
    memo.clear();
    const { evidence } = await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(20) });
    const forged = new Uint8Array(evidence);
    forged[0x50]! ^= 1;
    for (let attempt = 0; attempt < 2; attempt++) {
      const verdict = await appraise({ evidence: forged }, simulated(AT, { memo }));
      assert.deepEqual(verdict.codes, ['SNP_REPORT_BAD_SIGNATURE']);
    }
    assert.equal(memo.size, 0);
    assert.equal(memo.hits, 0);
  });
});
