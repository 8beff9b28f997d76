/**
 * Key release on AWS Nitro: the enclave makes a fresh RSA key pair, asks the
 * Nitro Secure Module for an attestation document binding its public key, and
 * calls KMS `Decrypt` with that document as the `Recipient`. KMS checks the
 * document and the key policy's `kms:RecipientAttestation:*` conditions, and
 * answers with the data key enveloped (CMS) for the RSA key, which never leaves
 * this process.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ChainError, ConfigError, UpstreamError } from '@veritee/attestations';
import { openEnvelopedData } from '@veritee/attestations/seal';
import type { TeeProvider } from '../tee/provider.js';

const RELEASE_LABEL = 'veritee.key-release/v1';
/** KMS's answers that mean "not for this enclave": policy, document or key. */
const REFUSALS = [
  'AccessDeniedException',
  'InvalidAttestationDocumentException',
  'IncorrectKeyException',
  'InvalidCiphertextException',
  'KMSInvalidStateException',
];

/**
 * @throws ChainError KEY_RELEASE_DENIED when KMS refuses (policy, attestation, key)
 * @throws UpstreamError KMS_UNAVAILABLE, ConfigError CONFIG_INVALID for a non-Nitro TEE
 */
export async function releaseDataKeyWithNitro(options: {
  readonly kms: KMSClient;
  readonly tee: TeeProvider;
  /** The data key as KMS encrypted it (CiphertextBlob). */
  readonly encryptedKey: Uint8Array;
  /** The KMS key that must have encrypted it. */
  readonly keyId?: string | undefined;
}): Promise<Uint8Array> {
  if (options.tee.kind !== 'nitro')
    throw new ConfigError('CONFIG_INVALID', 'KMS Recipient key release needs a Nitro enclave');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const document = await options.tee.quote({
    reportData: new Uint8Array(createHash('sha512').update(RELEASE_LABEL).update(spki).digest()),
    publicKey: spki,
  });
  let answer;
  try {
    answer = await options.kms.send(
      new DecryptCommand({
        CiphertextBlob: options.encryptedKey,
        ...(options.keyId === undefined ? {} : { KeyId: options.keyId }),
        Recipient: { AttestationDocument: document, KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' },
      }),
    );
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    if (REFUSALS.includes(name))
      throw new ChainError('KEY_RELEASE_DENIED', `KMS refused to release the key (${name})`, {
        cause: error,
      });
    throw new UpstreamError('KMS_UNAVAILABLE', 'KMS could not be asked to release the key', {
      cause: error,
    });
  }
  if (answer.CiphertextForRecipient === undefined)
    throw new ChainError('KEY_RELEASE_DENIED', 'KMS answered without CiphertextForRecipient');
  return openEnvelopedData(answer.CiphertextForRecipient, privateKey);
}
