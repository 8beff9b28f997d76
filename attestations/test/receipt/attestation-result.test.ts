import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/index.js';
import { appraise } from '../../src/evidence/index.js';
import { attestationResultClaims, earAppraisal, resultStatus } from '../../src/receipt/index.js';
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
  const claimsOf = (verdict: typeof accepted, nonce?: string) =>
    attestationResultClaims({
      verdict,
      issuer: 'https://verifier.test',
      at: new Date('2026-06-01T00:00:00Z'),
      lifetimeSeconds: 60,
      id: 'r1',
      build: 'veritee-verifier/9.9.9',
      policy: { id: 'prod', version: 7 },
      evidenceHash: '00'.repeat(32),
      nonce,
    });

  it('makes an EAR: profile, verifier id, iat, one submod named for the format, the nonce as eat_nonce', () => {
    const claims = claimsOf(accepted, '00ff00ff00ff00ff');
    assert.equal(claims.eat_profile, 'tag:github.com,2023:veraison/ear');
    assert.deepEqual(claims['ear.verifier-id'], {
      developer: 'https://veritee.dev',
      build: 'veritee-verifier/9.9.9',
    });
    assert.equal(claims.eat_nonce, 'AP8A_wD_AP8');
    assert.equal(claims.exp - claims.iat, 60);
    assert.deepEqual(Object.keys(claims.submods), ['nitro']);
    const appraisal = earAppraisal(claims);
    assert.equal(appraisal['ear.appraisal-policy-id'], 'prod@7');
    assert.equal(appraisal.veritee.tee.measurement, toHex(simulatedPcr(0)));
    assert.equal(appraisal.veritee.tee.tcb, undefined);
    assert.equal('eat_nonce' in claimsOf(accepted), false);
  });

  it('gives simulated hardware a warning in the trustworthiness vector, and genuine claims elsewhere', () => {
    const vector = earAppraisal(claimsOf(accepted))['ear.trustworthiness-vector'];
    assert.deepEqual(
      [vector['instance-identity'], vector.configuration, vector.executables, vector.hardware],
      [2, 2, 2, 32],
    );
    assert.equal(vector['sourced-data'], 0);
  });

  it('carries the SNP measurement and TCB of rejected evidence that parsed, with every code', () => {
    const appraisal = earAppraisal(claimsOf(debugRejected));
    assert.equal(appraisal['ear.status'], 'contraindicated');
    assert.equal(appraisal.veritee.tee.measurement, debugRejected.fields['measurement']);
    assert.equal(typeof appraisal.veritee.tee.tcb, 'object');
    assert.deepEqual(appraisal.veritee.codes, ['POLICY_MEASUREMENT_NOT_ALLOWED']);
    assert.equal(
      appraisal['ear.trustworthiness-vector'].executables,
      33,
      'unrecognized executables',
    );
    const untrusted = earAppraisal(claimsOf(rejected))['ear.trustworthiness-vector'];
    assert.deepEqual([untrusted['instance-identity'], untrusted.hardware], [96, 96]);
  });
});
