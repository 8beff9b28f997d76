import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appraise } from '../../src/evidence/index.js';
import { AT, simulator, trustWithDev } from '@veritee/mock';

describe('simulator failure cases', async () => {
  const cases = await simulator.failureCases(AT);

  it('covers every failure the simulator promises', () => {
    assert.deepEqual(cases.map((failure) => failure.code).sort(), [
      'NITRO_CERT_EXPIRED',
      'POLICY_DEBUG_ENABLED',
      'POLICY_DEBUG_ENABLED',
      'POLICY_EVIDENCE_STALE',
      'POLICY_VMPL_NOT_ALLOWED',
      'SNP_CERT_EXPIRED',
      'SNP_CERT_REVOKED',
      'SNP_CHIP_ID_MISMATCH',
      'SNP_PRODUCT_MISMATCH',
    ]);
  });

  for (const failure of cases) {
    it(`rejects the ${failure.name} case with ${failure.code} and nothing else`, async () => {
      const verdict = await appraise(failure.input, {
        at: failure.at,
        policy: failure.policy,
        trust: trustWithDev,
        allowSimulated: true,
      });
      assert.equal(verdict.verdict, 'reject');
      assert.deepEqual(verdict.codes, [failure.code]);
    });
  }
});
