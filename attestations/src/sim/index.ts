/**
 * `@veritee/attestations/sim`: simulated SEV-SNP and Nitro hardware. Evidence
 * is in the exact hardware formats, signed under a dev PKI, and goes through
 * the same parse -> verify -> evaluate path as real evidence; it is accepted
 * only where the dev anchors are trusted and `allowSimulated` is set, and the
 * verdict then says `simulated`.
 */
import { createSnpSimulator } from './snp.js';
import { createNitroSimulator } from './nitro.js';
import { createFailureCases } from './failures.js';
import { devTrustStore, type DevPki } from './pki.js';

export {
  createDevPki,
  serializeDevPki,
  parseDevPki,
  devTrustStore,
  DEV_PKI_FORMAT,
  type DevPki,
  type IssuingCa,
} from './pki.js';
export {
  SIM_DEFAULT_GUEST_POLICY,
  SIM_DEFAULT_TCB,
  SIM_DEFAULT_MEASUREMENT,
  simulatedChipId,
  type SnpSimulationOptions,
  type SimulatedSnp,
} from './snp.js';
export { simulatedPcr, type NitroSimulationOptions, type SimulatedNitro } from './nitro.js';
export type { FailureCase } from './failures.js';

/** A simulator over one dev PKI: SNP reports, Nitro documents, its trust store and failure cases. */
export function createSimulator(pki: DevPki) {
  const snp = createSnpSimulator(pki);
  const nitro = createNitroSimulator(pki);
  return {
    snp,
    nitro,
    trust: devTrustStore(pki),
    failureCases: (at: Date) => createFailureCases(snp, nitro, at),
  };
}

export type Simulator = ReturnType<typeof createSimulator>;
