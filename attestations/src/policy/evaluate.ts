/**
 * Policy evaluation on verified evidence only. Returns every violation at once,
 * so a relying party sees all that is wrong, not just the first thing.
 */
import { toHex, isAllZero } from '../bytes.js';
import type { Verified } from '../evidence/verified.js';
import type { SnpEvidence } from '../snp/verify.js';
import type { NitroEvidence } from '../nitro/verify.js';
import type { SnpTcb } from '../snp/product.js';
import type { Policy } from './policy.js';

/** One way the evidence falls short of the policy. */
export interface Violation {
  readonly code: string;
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

/** Guest policy bits (AMD SEV-SNP ABI #56860, Table 9 "Guest Policy Structure"). */
export const SNP_GUEST_POLICY = {
  SMT: 1n << 16n,
  MIGRATE_MA: 1n << 18n,
  DEBUG: 1n << 19n,
} as const;

/** How far a Nitro timestamp may lie ahead of the verifier's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export type VerifiedEvidence = Verified<SnpEvidence> | Verified<NitroEvidence>;

/** Every violation of `policy` by `evidence` at time `at`; empty means accepted. */
export function evaluatePolicy(evidence: VerifiedEvidence, policy: Policy, at: Date): Violation[] {
  return evidence.format === 'sev-snp'
    ? evaluateSnp(evidence, policy)
    : evaluateNitro(evidence, policy, at);
}

function evaluateSnp(evidence: Verified<SnpEvidence>, policy: Policy): Violation[] {
  const { report } = evidence;
  const violations: Violation[] = [];
  const add = (code: string, field: string, expected: string, actual: string) =>
    violations.push({ code, field, expected, actual });
  const guestPolicy = `0x${report.policy.toString(16)}`;
  const snp = policy.snp ?? {};

  if (policy.allowDebug !== true && (report.policy & SNP_GUEST_POLICY.DEBUG) !== 0n) {
    add('POLICY_DEBUG_ENABLED', 'policy.debug', 'debug disallowed', guestPolicy);
  }
  if (snp.allowSmt !== true && (report.policy & SNP_GUEST_POLICY.SMT) !== 0n) {
    add('POLICY_SMT_ENABLED', 'policy.smt', 'SMT disallowed', guestPolicy);
  }
  if (snp.allowMigrationAgent !== true && (report.policy & SNP_GUEST_POLICY.MIGRATE_MA) !== 0n) {
    add(
      'POLICY_MIGRATION_AGENT_ENABLED',
      'policy.migrate_ma',
      'migration agent disallowed',
      guestPolicy,
    );
  }
  if (policy.allowUncheckedRevocation !== true && evidence.revocation !== 'checked') {
    add(
      'POLICY_REVOCATION_UNCHECKED',
      'revocation',
      'checked against an AMD CRL',
      evidence.revocation,
    );
  }
  const measurement = toHex(report.measurement);
  if (
    snp.measurements !== undefined &&
    !snp.measurements.some((allowed) => allowed.toLowerCase() === measurement)
  ) {
    add(
      'POLICY_MEASUREMENT_NOT_ALLOWED',
      'measurement',
      `one of ${snp.measurements.length} allowed`,
      measurement,
    );
  }
  if (snp.products !== undefined && !snp.products.includes(evidence.product)) {
    add('POLICY_PRODUCT_NOT_ALLOWED', 'product', snp.products.join('|'), evidence.product);
  }
  if (snp.vmpls !== undefined && !snp.vmpls.includes(report.vmpl)) {
    add('POLICY_VMPL_NOT_ALLOWED', 'vmpl', snp.vmpls.join('|'), String(report.vmpl));
  }
  for (const [component, minimum] of Object.entries(snp.minimumTcb ?? {})) {
    const actual = evidence.reportedTcb[component as keyof SnpTcb];
    if (minimum !== undefined && (actual === undefined || actual < minimum)) {
      add(
        'POLICY_TCB_TOO_LOW',
        `reported_tcb.${component}`,
        `>= ${minimum}`,
        actual === undefined ? 'absent' : String(actual),
      );
    }
  }
  if (snp.reportData !== undefined && snp.reportData.toLowerCase() !== toHex(report.reportData)) {
    add(
      'POLICY_REPORT_DATA_MISMATCH',
      'report_data',
      snp.reportData.toLowerCase(),
      toHex(report.reportData),
    );
  }
  return violations;
}

function evaluateNitro(evidence: Verified<NitroEvidence>, policy: Policy, at: Date): Violation[] {
  const { payload } = evidence.document;
  const violations: Violation[] = [];
  const add = (code: string, field: string, expected: string, actual: string) =>
    violations.push({ code, field, expected, actual });
  const nitro = policy.nitro ?? {};
  const pcr = (index: number) => {
    const value = payload.pcrs.get(index);
    return value === undefined ? undefined : toHex(value);
  };

  // A debug-mode enclave reports all-zero PCRs (AWS Nitro Enclaves user guide, "Attestation process").
  const pcr0 = payload.pcrs.get(0);
  if (policy.allowDebug !== true && (pcr0 === undefined || isAllZero(pcr0))) {
    add(
      'POLICY_DEBUG_ENABLED',
      'pcr0',
      'non-zero (production mode)',
      pcr0 === undefined ? 'absent' : 'all zero (debug mode)',
    );
  }
  if (nitro.pcrs !== undefined) {
    const matches = nitro.pcrs.some((set) =>
      Object.entries(set).every(
        ([name, value]: [string, string | undefined]) =>
          value === undefined || pcr(Number(name.slice(3))) === value.toLowerCase(),
      ),
    );
    if (!matches)
      add(
        'POLICY_MEASUREMENT_NOT_ALLOWED',
        'pcrs',
        `one of ${nitro.pcrs.length} allowed PCR sets`,
        `pcr0=${pcr(0) ?? 'absent'}`,
      );
  }
  const age = at.getTime() - payload.timestamp;
  if (policy.maxEvidenceAgeSeconds !== undefined && age > policy.maxEvidenceAgeSeconds * 1000) {
    add(
      'POLICY_EVIDENCE_STALE',
      'timestamp',
      `at most ${policy.maxEvidenceAgeSeconds} s old`,
      `${Math.floor(age / 1000)} s old`,
    );
  }
  if (-age > MAX_CLOCK_SKEW_MS) {
    add(
      'POLICY_EVIDENCE_FROM_FUTURE',
      'timestamp',
      `not after ${at.toISOString()}`,
      new Date(payload.timestamp).toISOString(),
    );
  }
  const expectBytes = (
    code: string,
    field: string,
    expected: string | undefined,
    actual: Uint8Array | null,
  ) => {
    const found = actual === null ? 'absent' : toHex(actual);
    if (expected !== undefined && expected.toLowerCase() !== found)
      add(code, field, expected.toLowerCase(), found);
  };
  expectBytes('POLICY_NONCE_MISMATCH', 'nonce', nitro.nonce, payload.nonce);
  expectBytes('POLICY_PUBLIC_KEY_MISMATCH', 'public_key', nitro.publicKey, payload.publicKey);
  expectBytes('POLICY_USER_DATA_MISMATCH', 'user_data', nitro.userData, payload.userData);
  return violations;
}
