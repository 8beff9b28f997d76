/**
 * Attestation results (`veritee.attestation-result/v1`): what the verifier
 * says of a piece of evidence, as a signed JWT in the style of the IETF RATS
 * EAT Attestation Results (EAR): an overall `ear.status` of affirming,
 * warning or contraindicated, the appraisal policy, and the appraised claims.
 */
import { measurementHex, type Appraisal } from '../evidence/appraise.js';
import type { Violation } from '../policy/evaluate.js';

export const ATTESTATION_RESULT_TYPE = 'veritee.attestation-result/v1';
export const ATTESTATION_RESULT_PROFILE = 'tag:veritee,2026:attestation-result/v1';

/** RATS AR4SI tiers: genuine and within policy; genuine but from a dev root; not to be trusted. */
export type ResultStatus = 'affirming' | 'warning' | 'contraindicated';

export interface AttestationResultClaims {
  readonly typ: typeof ATTESTATION_RESULT_TYPE;
  readonly eat_profile: typeof ATTESTATION_RESULT_PROFILE;
  readonly iss: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly 'ear.status': ResultStatus;
  /** `<policy id>@<version>`. */
  readonly 'ear.appraisal-policy-id': string;
  readonly tee: {
    readonly format: Appraisal['format'];
    readonly simulated: boolean;
    /** SNP launch measurement or Nitro PCR0, hex; absent when the evidence did not parse. */
    readonly measurement?: string;
    /** SNP reported TCB components; absent for Nitro. */
    readonly tcb?: Readonly<Record<string, number | string>>;
  };
  /** Every error and violation code; empty when affirming or warning. */
  readonly codes: readonly string[];
  readonly violations: readonly Violation[];
  /** SHA-256 of the evidence bytes, hex. */
  readonly evidence_hash: string;
  /** The caller's nonce, echoed so it can tell this result is fresh. */
  readonly nonce?: string;
}

/** The status a verdict earns: simulated evidence, or evidence passed with a warning, is never better than `warning`. */
export function resultStatus(verdict: Appraisal): ResultStatus {
  if (verdict.verdict !== 'accept') return 'contraindicated';
  return verdict.simulated || verdict.warnings.length > 0 ? 'warning' : 'affirming';
}

/** The claims of an attestation result for a verdict (signing is the caller's). */
export function attestationResultClaims(input: {
  verdict: Appraisal;
  issuer: string;
  at: Date;
  lifetimeSeconds: number;
  id: string;
  policy: { readonly id: string; readonly version: number };
  evidenceHash: string;
  nonce?: string | undefined;
}): AttestationResultClaims {
  const { verdict } = input;
  const iat = Math.floor(input.at.getTime() / 1000);
  // Accepted evidence speaks through its claims; rejected evidence through what was parsed of it.
  const measurement =
    verdict.verdict === 'accept'
      ? measurementHex(verdict.claims)
      : (verdict.fields['measurement'] ?? verdict.fields['pcr0']);
  const tcb = verdict.verdict === 'accept' ? verdict.claims.tcb : verdict.fields['reported_tcb'];
  return {
    typ: ATTESTATION_RESULT_TYPE,
    eat_profile: ATTESTATION_RESULT_PROFILE,
    iss: input.issuer,
    iat,
    exp: iat + input.lifetimeSeconds,
    jti: input.id,
    'ear.status': resultStatus(verdict),
    'ear.appraisal-policy-id': `${input.policy.id}@${input.policy.version}`,
    tee: {
      format: verdict.format,
      simulated: verdict.simulated,
      ...(typeof measurement === 'string' ? { measurement } : {}),
      ...(typeof tcb === 'object' ? { tcb: { ...tcb } } : {}),
    },
    codes: verdict.codes,
    violations: verdict.violations,
    evidence_hash: input.evidenceHash,
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
  };
}
