/**
 * The trust store an appraiser builds from its settings: the real roots,
 * plus the dev PKI's roots when simulated evidence is allowed. Workers build
 * it from workerData; the pooled appraiser builds the same for the calling
 * thread.
 */
import { readFileSync } from 'node:fs';
import {
  defaultTrustStore,
  mergeTrustStores,
  type TrustStore,
} from '@veritee/attestations/evidence';
import { devTrustStore, parseDevPki } from '@veritee/attestations/sim';

export interface WorkerTrust {
  /** Accept simulated evidence chaining to the dev PKI at `devPkiPath`. */
  readonly allowSimulated: boolean;
  readonly devPkiPath?: string | undefined;
}

export async function trustStoreOf(settings: WorkerTrust): Promise<TrustStore> {
  return settings.allowSimulated && settings.devPkiPath !== undefined
    ? mergeTrustStores(
        defaultTrustStore(),
        devTrustStore(await parseDevPki(readFileSync(settings.devPkiPath, 'utf8'))),
      )
    : defaultTrustStore();
}
