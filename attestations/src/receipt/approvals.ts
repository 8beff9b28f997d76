/**
 * Approved images: the reference values the verifier's log holds, replayed
 * from its signed policy changes in order. The verifier's registry and every
 * client replay them the same way, so a client decides with the log's own
 * record which measurements (and, where tied, which models) may run.
 */
import type { NitroPcrSet } from '../policy/policy.js';
import type { PolicyChangeClaims, ReferenceValue } from './policy-change.js';

/** Stands for "any model" where a reference value ties none. */
export const ANY_MODEL = '*';

export interface Approvals {
  /** SEV-SNP measurement (hex) -> the models approved with it. */
  readonly snp?: ReadonlyMap<string, ReadonlySet<string>>;
  /** A Nitro PCR set (by its key) -> the set and the models approved with it. */
  readonly nitro?: ReadonlyMap<
    string,
    { readonly pcrs: NitroPcrSet; readonly models: ReadonlySet<string> }
  >;
}

const pcrKey = (pcrs: NitroPcrSet) =>
  JSON.stringify([pcrs.pcr0, pcrs.pcr1 ?? null, pcrs.pcr2 ?? null, pcrs.pcr8 ?? null]);

function changed(models: ReadonlySet<string> | undefined, claims: PolicyChangeClaims): Set<string> {
  const next = new Set(models ?? []);
  const model = claims.reference.modelHash ?? ANY_MODEL;
  if (claims.action === 'register') next.add(model);
  // Retiring without a model retires the value for every model.
  else if (claims.reference.modelHash === undefined) next.clear();
  else next.delete(model);
  return next;
}

/** The approvals after one more change. */
export function applyChange(approvals: Approvals, claims: PolicyChangeClaims): Approvals {
  const { reference } = claims;
  if (reference.tee === 'sev-snp') {
    const snp = new Map(approvals.snp ?? []);
    const models = changed(snp.get(reference.measurement), claims);
    if (models.size === 0) snp.delete(reference.measurement);
    else snp.set(reference.measurement, models);
    return { ...approvals, snp };
  }
  const nitro = new Map(approvals.nitro ?? []);
  const key = pcrKey(reference.pcrs);
  const models = changed(nitro.get(key)?.models, claims);
  if (models.size === 0) nitro.delete(key);
  else nitro.set(key, { pcrs: reference.pcrs, models });
  return { ...approvals, nitro };
}

/** Approvals of `lists` with no model tied (the values a policy file lists). */
export function approvalsOf(lists: {
  readonly measurements?: readonly string[] | undefined;
  readonly pcrs?: readonly NitroPcrSet[] | undefined;
}): Approvals {
  return {
    ...(lists.measurements === undefined
      ? {}
      : { snp: new Map(lists.measurements.map((m) => [m.toLowerCase(), new Set([ANY_MODEL])])) }),
    ...(lists.pcrs === undefined
      ? {}
      : {
          nitro: new Map(
            lists.pcrs.map((pcrs) => [pcrKey(pcrs), { pcrs, models: new Set([ANY_MODEL]) }]),
          ),
        }),
  };
}

/** Whether `reference` (with its model, if it names one) is approved now. */
export function isRegistered(approvals: Approvals, reference: ReferenceValue): boolean {
  const models =
    reference.tee === 'sev-snp'
      ? approvals.snp?.get(reference.measurement)
      : approvals.nitro?.get(pcrKey(reference.pcrs))?.models;
  if (models === undefined) return false;
  return reference.modelHash === undefined ? models.size > 0 : models.has(reference.modelHash);
}

/** How many reference values are approved (zero: the policy is open). */
export function approvalCount(approvals: Approvals): number {
  return (approvals.snp?.size ?? 0) + (approvals.nitro?.size ?? 0);
}

/**
 * Whether an enclave may run a model: its measurement (SEV-SNP) or its PCRs
 * (Nitro, every PCR a registered set names) are approved, with this model or
 * with any.
 */
export function approvesEnclave(
  approvals: Approvals,
  enclave: {
    readonly format: 'sev-snp' | 'nitro';
    /** SEV-SNP MEASUREMENT or Nitro PCR0, hex. */
    readonly measurement: string;
    /** Nitro: every PCR, hex, by index. */
    readonly pcrs?: ReadonlyMap<number, string>;
  },
  modelHash: string,
): 'approved' | 'measurement-unknown' | 'model-not-approved' {
  const sets =
    enclave.format === 'sev-snp'
      ? [approvals.snp?.get(enclave.measurement)].filter((models) => models !== undefined)
      : [...(approvals.nitro?.values() ?? [])]
          .filter(({ pcrs }) =>
            Object.entries(pcrs).every(
              ([name, value]) =>
                value === undefined ||
                (enclave.pcrs?.get(Number(name.slice(3))) ??
                  (name === 'pcr0' ? enclave.measurement : undefined)) === value,
            ),
          )
          .map(({ models }) => models);
  if (sets.length === 0) return 'measurement-unknown';
  return sets.some((models) => models.has(ANY_MODEL) || models.has(modelHash))
    ? 'approved'
    : 'model-not-approved';
}
