/**
 * The simulated TEE (the default): SEV-SNP reports or Nitro documents in the
 * exact hardware formats, signed by the dev PKI. Verifiers accept them only
 * when told to allow simulated evidence, and then mark them so.
 */
import type { SnpProduct } from '@veritee/attestations/snp';
import type { Simulator } from '@veritee/attestations/sim';
import type { TeeKind, TeeProvider } from './provider.js';

export interface SimulatedTeeOptions {
  readonly simulator: Simulator;
  readonly kind: TeeKind;
  readonly clock: () => Date;
  /** SNP product to simulate. Default Milan. */
  readonly product?: SnpProduct;
  /** SNP launch measurement; default the simulator's. */
  readonly measurement?: Uint8Array;
  /** Nitro PCRs by index; default the simulator's image values. */
  readonly pcrs?: Readonly<Record<number, Uint8Array>>;
}

export function createSimulatedTee(options: SimulatedTeeOptions): TeeProvider {
  const { simulator, clock } = options;
  if (options.kind === 'sev-snp') {
    const product = options.product ?? 'Milan';
    return {
      kind: 'sev-snp',
      simulated: true,
      description: `simulated AMD SEV-SNP (${product}, report v5)`,
      quote: async ({ reportData }) =>
        (
          await simulator.snp({
            at: clock(),
            product,
            reportData,
            ...(options.measurement === undefined ? {} : { measurement: options.measurement }),
          })
        ).evidence,
    };
  }
  return {
    kind: 'nitro',
    simulated: true,
    description: 'simulated AWS Nitro Enclave',
    quote: async ({ reportData, nonce, publicKey }) =>
      (
        await simulator.nitro({
          at: clock(),
          userData: reportData,
          nonce: nonce ?? null,
          publicKey: publicKey ?? null,
          ...(options.pcrs === undefined ? {} : { pcrs: options.pcrs }),
        })
      ).evidence,
  };
}
