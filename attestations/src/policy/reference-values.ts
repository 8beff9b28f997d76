/**
 * Reference values applied to a policy: the base policy (from its file) with
 * its SNP measurements and Nitro PCR sets replaced by what the registered and
 * retired values leave. A kind never touched keeps the base's list (unset: any);
 * once touched, its list is what remains, and an empty list allows nothing.
 */
import type { NitroPcrSet, Policy } from './policy.js';

export interface ReferenceSet {
  /** SNP launch measurements (hex) and, for each, the model hashes tied to it ('*': any model). */
  readonly snp?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Nitro PCR sets keyed by their canonical JSON, with the model hashes tied to each. */
  readonly nitro?: ReadonlyMap<
    string,
    { readonly pcrs: NitroPcrSet; readonly models: ReadonlySet<string> }
  >;
}

export function applyReferenceValues(base: Policy, references: ReferenceSet): Policy {
  return {
    ...base,
    ...(references.snp === undefined
      ? {}
      : { snp: { ...base.snp, measurements: [...references.snp.keys()] } }),
    ...(references.nitro === undefined
      ? {}
      : {
          nitro: { ...base.nitro, pcrs: [...references.nitro.values()].map((entry) => entry.pcrs) },
        }),
  };
}
