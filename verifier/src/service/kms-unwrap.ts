/** The broker's KMS call: `Decrypt` of a wrapped data key with the verifier's own permission. */
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ChainError, UpstreamError } from '@veritee/attestations';

export function kmsUnwrap(client: KMSClient) {
  return async (encryptedKey: Uint8Array): Promise<Uint8Array> => {
    let answer;
    try {
      answer = await client.send(new DecryptCommand({ CiphertextBlob: encryptedKey }));
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (
        [
          'AccessDeniedException',
          'InvalidCiphertextException',
          'IncorrectKeyException',
          'NotFoundException',
        ].includes(name)
      )
        throw new ChainError('KEY_RELEASE_DENIED', `KMS refused to unwrap the key (${name})`, {
          cause: error,
        });
      throw new UpstreamError('KMS_UNAVAILABLE', 'KMS could not unwrap the key', { cause: error });
    }
    if (answer.Plaintext === undefined)
      throw new UpstreamError('KMS_UNAVAILABLE', 'KMS answered no plaintext');
    return answer.Plaintext;
  };
}
