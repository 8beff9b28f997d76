import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/index.js';
import { appraise } from '../../src/evidence/index.js';
import { attestationResultClaims, resultStatus } from '../../src/receipt/index.js';
import { defaultTrustStore } from '../../src/evidence/trust.js';
import { simulatedPcr } from '../../src/sim/index.js';
import { AT, simulator, trustWithDev } from '@veritee/mock';

const { evidence: nitroEvidence } = await simulator.nitro({ at: AT });
const { evidence: snpEvidence } = await simulator.snp({ at: AT, product: 'Genoa', version: 3 });
const options = { at: AT, trust: trustWithDev, allowSimulated: true };
// Simulated evidence is accepted (a warning); the same evidence under the real roots only is rejected.
const accepted = await appraise({ evidence: nitroEvidence }, options);
const rejected = await appraise(
  { evidence: nitroEvidence },
  { at: AT, trust: defaultTrustStore() },
);
const debugRejected = await appraise(
  { evidence: snpEvidence },
  { ...options, policy: { snp: { measurements: ['00'.repeat(48)] } } },
);

describe('resultStatus', () => {
  it('never affirms simulated evidence', () => {
    assert.equal(accepted.verdict, 'accept');
    assert.equal(resultStatus(accepted), 'warning');
  });
  it('contraindicates rejected evidence, simulated or not', () => {
    assert.equal(resultStatus(rejected), 'contraindicated');
    assert.equal(debugRejected.simulated, true);
    assert.equal(resultStatus(debugRejected), 'contraindicated');
  });
});

describe('attestationResultClaims', () => {
  const claimsOf = (verdict: typeof accepted) =>
    attestationResultClaims({
      verdict,
      issuer: 'https://verifier.test',
      at: new Date('2026-06-01T00:00:00Z'),
      lifetimeSeconds: 60,
      id: 'r1',
      policy: { id: 'prod', version: 7 },
      evidenceHash: '00'.repeat(32),
    });

  it('names the Nitro PCR0 as the measurement and expires after its lifetime', () => {
    const claims = claimsOf(accepted);
    assert.equal(claims.tee.measurement, toHex(simulatedPcr(0)));
    assert.equal(claims.tee.tcb, undefined);
    assert.equal(claims.exp - claims.iat, 60);
    assert.equal(claims['ear.appraisal-policy-id'], 'prod@7');
    assert.equal('nonce' in claims, false);
  });

  it('carries the SNP measurement and TCB of rejected evidence that parsed, with every code', () => {
    const claims = claimsOf(debugRejected);
    assert.equal(claims['ear.status'], 'contraindicated');
    assert.equal(claims.tee.measurement, debugRejected.fields['measurement']);
    assert.equal(typeof claims.tee.tcb, 'object');
    assert.deepEqual(claims.codes, ['POLICY_MEASUREMENT_NOT_ALLOWED']);
  });
});
