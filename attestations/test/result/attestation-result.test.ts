import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attestationResultClaims, resultStatus, type Verdict } from '../../src/index.js';

const verdict = (overrides: Partial<Verdict>): Verdict => ({
  verdict: 'accept',
  format: 'nitro',
  simulated: false,
  codes: [],
  violations: [],
  fields: { pcr0: 'aa'.repeat(48) },
  ...overrides,
});

describe('resultStatus', () => {
  it('affirms only genuine evidence that passes policy', () => {
    assert.equal(resultStatus(verdict({})), 'affirming');
  });
  it('never affirms simulated evidence', () => {
    assert.equal(resultStatus(verdict({ simulated: true })), 'warning');
  });
  it('contraindicates rejected evidence, simulated or not', () => {
    assert.equal(resultStatus(verdict({ verdict: 'reject', codes: ['X'] })), 'contraindicated');
    assert.equal(
      resultStatus(verdict({ verdict: 'reject', simulated: true, codes: ['X'] })),
      'contraindicated',
    );
  });
});

describe('attestationResultClaims', () => {
  it('names the Nitro PCR0 as the measurement and expires after its lifetime', () => {
    const claims = attestationResultClaims({
      verdict: verdict({}),
      issuer: 'https://verifier.test',
      at: new Date('2026-06-01T00:00:00Z'),
      lifetimeSeconds: 60,
      id: 'r1',
      policy: { id: 'prod', version: 7 },
      evidenceHash: '00'.repeat(32),
    });
    assert.equal(claims.tee.measurement, 'aa'.repeat(48));
    assert.equal(claims.tee.tcb, undefined);
    assert.equal(claims.exp - claims.iat, 60);
    assert.equal(claims['ear.appraisal-policy-id'], 'prod@7');
    assert.equal('nonce' in claims, false);
  });
});
