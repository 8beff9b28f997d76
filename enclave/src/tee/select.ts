/**
 * Chooses the TEE provider the configuration names. Real hardware paths fail
 * at start, with TEE_UNAVAILABLE, when their kernel interface is absent.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '@veritee/attestations';
import { createSimulator } from '@veritee/attestations/sim';
import type { EnclaveConfig } from '../config.js';
import { loadOrCreateDevPki } from './dev-pki-store.js';
import type { TeeProvider } from './provider.js';
import { createSimulatedTee } from './simulated.js';
import { createConfigfsSnpTee } from './snp-configfs.js';

export interface SelectDeps {
  readonly clock: () => Date;
  readonly home: string;
  readonly progress: (line: string) => void;
}

export async function selectTee(config: EnclaveConfig, deps: SelectDeps): Promise<TeeProvider> {
  switch (config.tee) {
    case 'sim':
    case 'sim-nitro': {
      const simulator = createSimulator(
        await loadOrCreateDevPki(deps.home, deps.clock(), deps.progress),
      );
      return createSimulatedTee({
        simulator,
        kind: config.tee === 'sim' ? 'sev-snp' : 'nitro',
        clock: deps.clock,
        product: config.simProduct,
      });
    }
    case 'snp':
      if (existsSync(config.configfsTsm)) return createConfigfsSnpTee({ root: config.configfsTsm });
      throw new ConfigError(
        'TEE_UNAVAILABLE',
        existsSync('/dev/sev-guest')
          ? 'configfs-tsm is absent (Linux < 6.7) and the /dev/sev-guest ioctl path needs a native addon this build lacks'
          : `no SEV-SNP guest interface: neither ${config.configfsTsm} nor /dev/sev-guest exists`,
      );
    case 'nitro':
      throw new ConfigError(
        'TEE_UNAVAILABLE',
        existsSync('/dev/nsm')
          ? 'the /dev/nsm ioctl transport needs a native addon this build lacks'
          : 'no Nitro Secure Module: /dev/nsm does not exist',
      );
  }
}
