/**
 * Chooses the TEE provider the configuration names. Real hardware paths fail
 * at start, with TEE_UNAVAILABLE, when their kernel interface is absent.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '@veritee/attestations';
import type { EnclaveConfig } from '../config.js';
import type { TeeProvider } from './provider.js';
import { createConfigfsSnpTee } from './snp-configfs.js';
import { createNsmTee } from './nitro-nsm.js';
import { loadTeeIoctl, nsmDeviceTransport } from './ioctl.js';
import { createSevGuestTee } from './sev-guest.js';

export interface SelectDeps {
  readonly clock: () => Date;
  readonly home: string;
  readonly progress: (line: string) => void;
}

export async function selectTee(config: EnclaveConfig, deps: SelectDeps): Promise<TeeProvider> {
  switch (config.tee) {
    case 'sim':
    case 'sim-nitro': {
      // Simulator code (and its certificate issuing) loads only when simulating,
      // so a hardware enclave never has it in memory.
      const [{ createSimulator }, { loadOrCreateDevPki }, { createSimulatedTee }] =
        await Promise.all([
          import('@veritee/attestations/sim'),
          import('@veritee/mock/dev-pki'),
          import('./simulated.js'),
        ]);
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
      // Kernels before configfs-tsm (6.7): the extended report ioctl on /dev/sev-guest.
      if (existsSync(config.sevGuestDevice))
        return createSevGuestTee({ device: config.sevGuestDevice });
      throw new ConfigError(
        'TEE_UNAVAILABLE',
        `no SEV-SNP guest interface: neither ${config.configfsTsm} nor ${config.sevGuestDevice} exists`,
      );
    case 'nitro':
      if (!existsSync(config.nsmDevice))
        throw new ConfigError(
          'TEE_UNAVAILABLE',
          `no Nitro Secure Module: ${config.nsmDevice} does not exist`,
        );
      loadTeeIoctl();
      return createNsmTee(nsmDeviceTransport(config.nsmDevice));
  }
}
