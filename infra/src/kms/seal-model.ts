/**
 * Envelope encryption of model weights for operators: KMS `GenerateDataKey`
 * gives a fresh AES-256 data key and its ciphertext; the weights are sealed
 * under the key (`veritee.sealed-model/v1`) and the plaintext key is dropped.
 * Only an enclave the key policy admits can have the key released again.
 */
import { GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { UpstreamError } from '@veritee/attestations';
import { sealModel } from '@veritee/attestations/seal';

/** @throws UpstreamError KMS_UNAVAILABLE */
export async function sealModelWithKms(options: {
  readonly kms: KMSClient;
  readonly keyId: string;
  readonly model: Uint8Array;
}): Promise<Uint8Array> {
  let answer;
  try {
    answer = await options.kms.send(
      new GenerateDataKeyCommand({ KeyId: options.keyId, KeySpec: 'AES_256' }),
    );
  } catch (error) {
    throw new UpstreamError(
      'KMS_UNAVAILABLE',
      `KMS could not make a data key under ${options.keyId}`,
      {
        cause: error,
      },
    );
  }
  if (answer.Plaintext === undefined || answer.CiphertextBlob === undefined)
    throw new UpstreamError('KMS_UNAVAILABLE', 'KMS answered GenerateDataKey without the key');
  const dataKey = answer.Plaintext;
  try {
    return sealModel({
      model: options.model,
      dataKey,
      encryptedKey: answer.CiphertextBlob,
      keyId: answer.KeyId ?? options.keyId,
    });
  } finally {
    dataKey.fill(0);
  }
}
