import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTrustStore, parseCertificate } from '../../src/evidence/index.js';
import { parseNitroDocument, verifyNitro } from '../../src/nitro/index.js';
import { evaluatePolicy, type Policy } from '../../src/policy/index.js';
import { parseSnpReport, verifySnp } from '../../src/snp/index.js';
import { vectorFile, vectorById, REAL_SNP_POLICY } from '@veritee/mock/vectors';

function verifiedSnp(id: string) {
  const vector = vectorById(id);
  const report = parseSnpReport(vectorFile(vector.evidence));
  return verifySnp(report, parseCertificate(vectorFile(vector.endorsement ?? '')), {
    trust: defaultTrustStore(),
    at: new Date(vector.verify_at),
  });
}

function verifiedNitro(id: string) {
  const vector = vectorById(id);
  const at = new Date(vector.verify_at);
  return {
    evidence: verifyNitro(parseNitroDocument(vectorFile(vector.evidence)), {
      trust: defaultTrustStore(),
      at,
    }),
    at,
  };
}

const codes = (violations: ReadonlyArray<{ code: string }>) =>
  violations.map((violation) => violation.code).sort();

describe('evaluatePolicy', () => {
  describe('when the evidence is SEV-SNP', () => {
    const azure = verifiedSnp('snp-trustee-azure-milan-v3-a');
    const at = new Date();

    it('accepts evidence that meets every constraint', () => {
      const policy: Policy = {
        ...REAL_SNP_POLICY,
        snp: {
          allowSmt: true,
          measurements: [
            '6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e',
          ],
          products: ['Milan'],
          vmpls: [0],
          minimumTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
          reportData:
            'af2910341dd8108360e485f1b72494255190b9cdd5ccb44b73b883037cf99f210000000000000000000000000000000000000000000000000000000000000000',
        },
      };
      assert.deepEqual(evaluatePolicy(azure, policy, at), []);
    });

    it('refuses SMT and unchecked revocation by default, and lists both', () => {
      assert.deepEqual(codes(evaluatePolicy(azure, {}, at)), [
        'POLICY_REVOCATION_UNCHECKED',
        'POLICY_SMT_ENABLED',
      ]);
    });

    it('refuses a debug guest policy unless debug is allowed', () => {
      const debug = verifiedSnp('snp-gsg-milan-v2');
      assert.deepEqual(codes(evaluatePolicy(debug, REAL_SNP_POLICY, at)), ['POLICY_DEBUG_ENABLED']);
      assert.deepEqual(evaluatePolicy(debug, { ...REAL_SNP_POLICY, allowDebug: true }, at), []);
    });

    it('returns every violation at once with the expected and actual values', () => {
      const policy: Policy = {
        snp: {
          measurements: ['00'.repeat(48)],
          products: ['Genoa'],
          vmpls: [1],
          minimumTcb: { snp: 25, microcode: 220, bootloader: 4 },
          reportData: '11'.repeat(64),
        },
      };
      const violations = evaluatePolicy(azure, policy, at);
      assert.deepEqual(codes(violations), [
        'POLICY_MEASUREMENT_NOT_ALLOWED',
        'POLICY_PRODUCT_NOT_ALLOWED',
        'POLICY_REPORT_DATA_MISMATCH',
        'POLICY_REVOCATION_UNCHECKED',
        'POLICY_SMT_ENABLED',
        'POLICY_TCB_TOO_LOW',
        'POLICY_TCB_TOO_LOW',
        'POLICY_VMPL_NOT_ALLOWED',
      ]);
      const tcb = violations.filter((violation) => violation.code === 'POLICY_TCB_TOO_LOW');
      assert.deepEqual(
        tcb.map((violation) => [violation.field, violation.expected, violation.actual]),
        [
          ['reported_tcb.snp', '>= 25', '24'],
          ['reported_tcb.microcode', '>= 220', '219'],
        ],
      );
      const vmpl = violations.find((violation) => violation.code === 'POLICY_VMPL_NOT_ALLOWED');
      assert.deepEqual(vmpl, {
        code: 'POLICY_VMPL_NOT_ALLOWED',
        field: 'vmpl',
        expected: '1',
        actual: '0',
      });
    });

    it('refuses a migration agent unless allowed', () => {
      const withAgent = {
        ...azure,
        report: { ...azure.report, policy: azure.report.policy | (1n << 18n) },
      };
      assert.ok(
        codes(evaluatePolicy(withAgent, REAL_SNP_POLICY, at)).includes(
          'POLICY_MIGRATION_AGENT_ENABLED',
        ),
      );
      assert.deepEqual(
        evaluatePolicy(
          withAgent,
          { ...REAL_SNP_POLICY, snp: { allowSmt: true, allowMigrationAgent: true } },
          at,
        ),
        [],
      );
    });
  });

  describe('when the evidence is Nitro', () => {
    const { evidence, at } = verifiedNitro('nitro-evervault-2022-10-13-nonce');
    const pcr0 =
      'f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b';
    const pcr8 =
      '8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb';

    it('accepts a production document under the default policy', () => {
      assert.deepEqual(evaluatePolicy(evidence, {}, at), []);
    });

    it('refuses a debug-mode document (all-zero PCRs) unless debug is allowed', () => {
      const debug = verifiedNitro('nitro-evervault-2022-10-12-debug');
      assert.deepEqual(codes(evaluatePolicy(debug.evidence, {}, debug.at)), [
        'POLICY_DEBUG_ENABLED',
      ]);
      assert.deepEqual(evaluatePolicy(debug.evidence, { allowDebug: true }, debug.at), []);
    });

    it('accepts a document matching one allowed PCR set and refuses one matching none', () => {
      assert.deepEqual(
        evaluatePolicy(
          evidence,
          { nitro: { pcrs: [{ pcr0: '00'.repeat(48) }, { pcr0, pcr8 }] } },
          at,
        ),
        [],
      );
      assert.deepEqual(
        codes(evaluatePolicy(evidence, { nitro: { pcrs: [{ pcr0, pcr8: '00'.repeat(48) }] } }, at)),
        ['POLICY_MEASUREMENT_NOT_ALLOWED'],
      );
    });

    it('refuses stale evidence and evidence from the future', () => {
      const later = new Date(at.getTime() + 301_000);
      assert.deepEqual(codes(evaluatePolicy(evidence, { maxEvidenceAgeSeconds: 300 }, later)), [
        'POLICY_EVIDENCE_STALE',
      ]);
      assert.deepEqual(evaluatePolicy(evidence, { maxEvidenceAgeSeconds: 302 }, later), []);
      const earlier = new Date(evidence.document.payload.timestamp - 301_000);
      assert.deepEqual(codes(evaluatePolicy(evidence, {}, earlier)), [
        'POLICY_EVIDENCE_FROM_FUTURE',
      ]);
    });

    it('compares nonce, public key and user data with the expected values', () => {
      const nonce = Buffer.from(evidence.document.payload.nonce ?? []).toString('hex');
      assert.deepEqual(evaluatePolicy(evidence, { nitro: { nonce: nonce.toUpperCase() } }, at), []);
      const violations = evaluatePolicy(
        evidence,
        { nitro: { nonce: 'ab', publicKey: 'cd', userData: 'ef' } },
        at,
      );
      assert.deepEqual(codes(violations), [
        'POLICY_NONCE_MISMATCH',
        'POLICY_PUBLIC_KEY_MISMATCH',
        'POLICY_USER_DATA_MISMATCH',
      ]);
      assert.equal(
        violations.find((violation) => violation.field === 'public_key')?.actual,
        'absent',
      );
    });
  });
});
