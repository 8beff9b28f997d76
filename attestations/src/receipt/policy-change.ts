/**
 * Policy changes (`veritee.policy-change/v1`): an operator registers or
 * retires a reference value (an SEV-SNP launch measurement or a set of Nitro
 * PCRs, optionally tied to a model hash), and the verifier records the change
 * in its log as a signed statement, so relying parties can see which images
 * were approved when. Like a receipt, the statement names its log position,
 * and its leaf is the canonical JSON of its claims without `log`.
 */
import { EvidenceError } from '../errors.js';
import type { NitroPcrSet } from '../policy/policy.js';

export const POLICY_CHANGE_TYPE = 'veritee.policy-change/v1';
/** Its JWS header `typ` (RFC 8725, section 3.11); statements signed before it carry the tag itself. */
export const POLICY_CHANGE_HEADER_TYPE = 'veritee-policy-change+jwt';

export type ReferenceValue =
  | { readonly tee: 'sev-snp'; readonly measurement: string; readonly modelHash?: string }
  | { readonly tee: 'nitro'; readonly pcrs: NitroPcrSet; readonly modelHash?: string };

export interface PolicyChangeClaims {
  readonly typ: typeof POLICY_CHANGE_TYPE;
  readonly iss: string;
  readonly iat: number;
  /** `policy-<id>-<version>`. */
  readonly jti: string;
  /** The policy version this change creates. */
  readonly policy: { readonly id: string; readonly version: number };
  readonly action: 'register' | 'retire';
  readonly reference: ReferenceValue;
  /** Free text from the operator (at most 200 characters). */
  readonly note?: string;
  readonly log: { readonly index: number; readonly leaf_hash: string };
}

export type PolicyChangeEntry = Omit<PolicyChangeClaims, 'log'>;

const HEX = (bytes: number) => new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
const MEASUREMENT = HEX(48);
const MODEL_HASH = HEX(32);

function bad(field: string, problem: string): never {
  throw new EvidenceError('POLICY_CHANGE_INVALID', `${field} ${problem}`);
}

/**
 * Checks a reference value as an operator sends it: hex lower-cased, sizes
 * right, no unknown fields.
 * @throws EvidenceError POLICY_CHANGE_INVALID naming the field
 */
export function parseReferenceValue(value: unknown): ReferenceValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('reference', 'is not an object');
  const json = value as Record<string, unknown>;
  const modelHash = json['modelHash'];
  if (modelHash !== undefined && (typeof modelHash !== 'string' || !MODEL_HASH.test(modelHash)))
    bad('reference.modelHash', 'is not 32 bytes of lower-case hex');
  const model = modelHash === undefined ? {} : { modelHash: modelHash };
  if (json['tee'] === 'sev-snp') {
    const known = ['tee', 'measurement', 'modelHash'];
    const unknown = Object.keys(json).find((key) => !known.includes(key));
    if (unknown !== undefined) bad(`reference.${unknown.slice(0, 32)}`, 'is not a known field');
    const measurement = json['measurement'];
    if (typeof measurement !== 'string' || !MEASUREMENT.test(measurement))
      bad('reference.measurement', 'is not 48 bytes of lower-case hex');
    return { tee: 'sev-snp', measurement, ...model };
  }
  if (json['tee'] === 'nitro') {
    const known = ['tee', 'pcrs', 'modelHash'];
    const unknown = Object.keys(json).find((key) => !known.includes(key));
    if (unknown !== undefined) bad(`reference.${unknown.slice(0, 32)}`, 'is not a known field');
    const pcrs = json['pcrs'];
    if (typeof pcrs !== 'object' || pcrs === null || Array.isArray(pcrs))
      bad('reference.pcrs', 'is not an object');
    const set: Record<string, string> = {};
    for (const [name, pcr] of Object.entries(pcrs)) {
      if (!['pcr0', 'pcr1', 'pcr2', 'pcr8'].includes(name))
        bad(`reference.pcrs.${name.slice(0, 16)}`, 'is not pcr0, pcr1, pcr2 or pcr8');
      if (typeof pcr !== 'string' || !MEASUREMENT.test(pcr))
        bad(`reference.pcrs.${name}`, 'is not 48 bytes of lower-case hex');
      set[name] = pcr;
    }
    if (set['pcr0'] === undefined) bad('reference.pcrs.pcr0', 'is required');
    return { tee: 'nitro', pcrs: set, ...model };
  }
  return bad('reference.tee', 'is not sev-snp or nitro');
}

/** A change's entry as logged: its claims without `log`, keys in this order (absent ones left out). */
export function orderedPolicyChange(claims: PolicyChangeEntry): object {
  const { reference } = claims;
  return {
    typ: claims.typ,
    iss: claims.iss,
    iat: claims.iat,
    jti: claims.jti,
    policy: { id: claims.policy.id, version: claims.policy.version },
    action: claims.action,
    reference:
      reference.tee === 'sev-snp'
        ? { tee: reference.tee, measurement: reference.measurement, modelHash: reference.modelHash }
        : {
            tee: reference.tee,
            pcrs: {
              pcr0: reference.pcrs.pcr0,
              pcr1: reference.pcrs.pcr1,
              pcr2: reference.pcrs.pcr2,
              pcr8: reference.pcrs.pcr8,
            },
            modelHash: reference.modelHash,
          },
    note: claims.note,
  };
}
