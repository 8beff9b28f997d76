/**
 * Attestation results as the IETF RATS EAT Attestation Results draft
 * (draft-ietf-rats-ear) defines them: a JWT (`typ` `eat+jwt`, the media type
 * application/eat+jwt IANA registered, per RFC 8725 explicit typing) whose
 * claims are the EAR profile, `iat`, `ear.verifier-id`, the caller's nonce as
 * `eat_nonce`, and one appraisal under `submods` named for the TEE format,
 * with its `ear.status`, AR4SI trustworthiness vector and appraisal policy.
 * Veritee's own claims (measurement, TCB, codes, evidence hash) sit in that
 * appraisal under the private name `veritee`.
 */
import { measurementHex, type Appraisal } from '../evidence/appraise.js';
import type { Violation } from '../policy/evaluate.js';

/** The EAR profile (draft-ietf-rats-ear, "EAR profile"). */
export const EAR_PROFILE = 'tag:github.com,2023:veraison/ear';
/** JWT `typ`: application/eat+jwt without its `application/` (RFC 8725, section 3.11). */
export const ATTESTATION_RESULT_TYPE = 'eat+jwt';
/** Who made the result (`ear.verifier-id`). */
export const VERIFIER_DEVELOPER = 'https://veritee.dev';

/** RATS AR4SI tiers: genuine and within policy; genuine but from a dev root; not to be trusted. */
export type ResultStatus = 'affirming' | 'warning' | 'contraindicated';

/**
 * AR4SI trustworthiness claims (draft-ietf-rats-ar4si, section 2.3): 0 no
 * claim, 2-31 affirming, 32-95 warning, 96-127 contraindicated.
 */
export interface TrustworthinessVector {
  readonly 'instance-identity': number;
  readonly configuration: number;
  readonly executables: number;
  readonly 'file-system': number;
  readonly hardware: number;
  readonly 'runtime-opaque': number;
  readonly 'storage-opaque': number;
  readonly 'sourced-data': number;
}

/** Veritee's claims about the appraised evidence, under the private name `veritee`. */
export interface VeriteeAppraisalClaims {
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
  /** The canonical evidence hash (accepted evidence), or SHA-256 of the bytes, hex. */
  readonly evidence_hash: string;
}

export interface EarAppraisal {
  readonly 'ear.status': ResultStatus;
  readonly 'ear.trustworthiness-vector': TrustworthinessVector;
  /** `<policy id>@<version>`. */
  readonly 'ear.appraisal-policy-id': string;
  readonly veritee: VeriteeAppraisalClaims;
}

export interface AttestationResultClaims {
  readonly eat_profile: typeof EAR_PROFILE;
  readonly iss: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly 'ear.verifier-id': { readonly developer: string; readonly build: string };
  /** The caller's nonce (8 to 64 bytes), base64url, so it can tell this result is fresh. */
  readonly eat_nonce?: string;
  /** One appraisal, named for the evidence format (`sev-snp` or `nitro`). */
  readonly submods: Readonly<Record<string, EarAppraisal>>;
}

/** The status a verdict earns: simulated evidence, or evidence passed with a warning, is never better than `warning`. */
export function resultStatus(verdict: Appraisal): ResultStatus {
  if (verdict.verdict !== 'accept') return 'contraindicated';
  return verdict.simulated || verdict.warnings.length > 0 ? 'warning' : 'affirming';
}

// What each policy violation says about, in AR4SI's terms.
const EXECUTABLES = new Set(['POLICY_MEASUREMENT_NOT_ALLOWED']);
const HARDWARE = new Set([
  'POLICY_TCB_TOO_LOW',
  'POLICY_PRODUCT_NOT_ALLOWED',
  'POLICY_REVOCATION_UNCHECKED',
]);

/**
 * The AR4SI vector of a verdict. Accepted: the instance is identified by a
 * chain to a pinned root (2), its configuration and executables are within
 * policy (2), its hardware genuine (2; 32, "unsafe", when simulated), and its
 * memory encrypted by the TEE (runtime-opaque 2). Rejected: the claims the
 * failure speaks to are contraindicated (96), or unrecognized executables (33).
 */
export function trustworthinessVector(verdict: Appraisal): TrustworthinessVector {
  const none = { 'file-system': 0, 'storage-opaque': 0, 'sourced-data': 0 };
  if (verdict.verdict === 'accept')
    return {
      ...none,
      'instance-identity': 2,
      configuration: 2,
      executables: 2,
      hardware: verdict.simulated ? 32 : 2,
      'runtime-opaque': 2,
    };
  const violations = verdict.violations.map((violation) => violation.code);
  if (violations.length === 0)
    // The evidence itself failed: malformed, badly signed or chained to no pinned root.
    return {
      ...none,
      'instance-identity': 96,
      configuration: 0,
      executables: 0,
      hardware: 96,
      'runtime-opaque': 0,
    };
  const hits = (set: ReadonlySet<string>) => violations.some((code) => set.has(code));
  const configuration = violations.some((code) => !EXECUTABLES.has(code) && !HARDWARE.has(code));
  return {
    ...none,
    'instance-identity': 2,
    configuration: configuration ? 96 : 2,
    executables: hits(EXECUTABLES) ? 33 : 2,
    hardware: hits(HARDWARE) ? 96 : verdict.simulated ? 32 : 2,
    'runtime-opaque': 2,
  };
}

/** The claims of an attestation result for a verdict (signing is the caller's). */
export function attestationResultClaims(input: {
  verdict: Appraisal;
  issuer: string;
  at: Date;
  lifetimeSeconds: number;
  id: string;
  /** The verifier's build, for `ear.verifier-id`. */
  build: string;
  policy: { readonly id: string; readonly version: number };
  evidenceHash: string;
  /** The caller's nonce bytes, hex. */
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
    eat_profile: EAR_PROFILE,
    iss: input.issuer,
    iat,
    exp: iat + input.lifetimeSeconds,
    jti: input.id,
    'ear.verifier-id': { developer: VERIFIER_DEVELOPER, build: input.build },
    ...(input.nonce === undefined
      ? {}
      : { eat_nonce: Buffer.from(input.nonce, 'hex').toString('base64url') }),
    submods: {
      [verdict.format]: {
        'ear.status': resultStatus(verdict),
        'ear.trustworthiness-vector': trustworthinessVector(verdict),
        'ear.appraisal-policy-id': `${input.policy.id}@${input.policy.version}`,
        veritee: {
          tee: {
            format: verdict.format,
            simulated: verdict.simulated,
            ...(typeof measurement === 'string' ? { measurement } : {}),
            ...(typeof tcb === 'object' ? { tcb: { ...tcb } } : {}),
          },
          codes: verdict.codes,
          violations: verdict.violations,
          evidence_hash: input.evidenceHash,
        },
      },
    },
  };
}

/** The one appraisal of a result. */
export function earAppraisal(claims: AttestationResultClaims): EarAppraisal {
  const [appraisal] = Object.values(claims.submods);
  if (appraisal === undefined) throw new RangeError('an attestation result holds one appraisal');
  return appraisal;
}
