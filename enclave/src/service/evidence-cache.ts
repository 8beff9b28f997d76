/**
 * Standing evidence, renewed periodically so that what clients fetch is never
 * older than the refresh interval (plus the time to make a quote).
 */
import type { EnclaveEvidence } from '@veritee/attestations/wire';
import type { AttestedInference } from './attested-inference.js';
import type { TeeProvider } from '../tee/provider.js';

export interface EvidenceCache {
  current(): Promise<EnclaveEvidence>;
  stop(): void;
}

export function createEvidenceCache(options: {
  inference: AttestedInference;
  tee: TeeProvider;
  modelHash: Uint8Array;
  enclaveKey: Uint8Array;
  refreshSeconds: number;
  clock: () => Date;
}): EvidenceCache {
  let latest: Promise<EnclaveEvidence> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const renew = (): void => {
    const next = options.inference.standingEvidence().then(({ evidence, issuedAt }) => ({
      tee: options.tee.kind,
      simulated: options.tee.simulated,
      evidence,
      modelHash: options.modelHash,
      enclaveKey: options.enclaveKey,
      issuedAt,
    }));
    // Keep serving the last good evidence if a renewal fails.
    next.then(
      () => (latest = next),
      () => undefined,
    );
    latest ??= next;
  };
  return {
    current: () => {
      if (latest === undefined) {
        renew();
        timer = setInterval(renew, options.refreshSeconds * 1000);
        timer.unref();
      }
      return latest as Promise<EnclaveEvidence>;
    },
    stop: () => clearInterval(timer),
  };
}
