/**
 * Opens a sealed model (`veritee.sealed-model/v1`) at start-up. The sealed
 * file must carry the weights the operator pinned before any key is asked
 * for; the data key is released to this enclave only (KMS with a Nitro
 * Recipient attestation, or the verifier's key broker), and the weights are
 * decrypted in memory: plaintext weights never touch the disk.
 */
import { readFile } from 'node:fs/promises';
import { KMSClient } from '@aws-sdk/client-kms';
import { ConfigError } from '@veritee/attestations';
import { openSealedModel, parseSealedModel } from '@veritee/attestations/seal';
import type { ModelKeyRelease } from '../config.js';
import { releaseDataKeyWithBroker } from '../keys/broker-key-release.js';
import { releaseDataKeyWithNitro } from '../keys/nitro-key-release.js';
import type { TeeProvider } from '../tee/provider.js';

export interface OpenSealedWeightsOptions {
  readonly path: string;
  /** SHA-256 of the plaintext weights, hex: what the operator pinned. */
  readonly expectedSha256: string;
  readonly release: Exclude<ModelKeyRelease, { kind: 'none' }>;
  readonly tee: TeeProvider;
  readonly progress: (line: string) => void;
}

/**
 * @returns the plaintext weights
 * @throws ConfigError MODEL_UNREADABLE, MODEL_HASH_MISMATCH
 * @throws EvidenceError SEALED_MODEL_MALFORMED
 * @throws ChainError KEY_RELEASE_DENIED, KEY_RELEASE_OPEN_FAILED, SEALED_MODEL_OPEN_FAILED
 * @throws UpstreamError KMS_UNAVAILABLE, KEY_BROKER_UNAVAILABLE
 */
export async function openSealedWeights(options: OpenSealedWeightsOptions): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(options.path));
  } catch (error) {
    throw new ConfigError(
      'MODEL_UNREADABLE',
      `sealed model cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const sealed = parseSealedModel(bytes);
  // Refuse before the key is asked for: a release is logged, and needless ones muddy the log.
  if (sealed.header.sha256 !== options.expectedSha256.toLowerCase())
    throw new ConfigError(
      'MODEL_HASH_MISMATCH',
      `sealed model holds weights with SHA-256 ${sealed.header.sha256}; expected ${options.expectedSha256.toLowerCase()}`,
    );
  const { release, tee } = options;
  let dataKey: Uint8Array;
  if (release.kind === 'kms') {
    options.progress(
      `releasing the model key from AWS KMS${release.endpoint === undefined ? '' : ` at ${release.endpoint}`}`,
    );
    const kms = new KMSClient(release.endpoint === undefined ? {} : { endpoint: release.endpoint });
    try {
      dataKey = await releaseDataKeyWithNitro({
        kms,
        tee,
        encryptedKey: sealed.header.encryptedKey,
      });
    } finally {
      kms.destroy();
    }
  } else {
    options.progress(`releasing the model key from the key broker at ${release.url}`);
    dataKey = await releaseDataKeyWithBroker({
      broker: release.url,
      tee,
      encryptedKey: sealed.header.encryptedKey,
    });
  }
  try {
    return openSealedModel(sealed, dataKey);
  } finally {
    dataKey.fill(0);
  }
}
