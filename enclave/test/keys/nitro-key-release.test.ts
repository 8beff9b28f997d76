/**
 * Attested key release on Nitro, end to end over the real AWS SDK: an operator
 * seals model weights under a KMS key whose policy admits one enclave image;
 * the enclave gets the data key back only with an attestation document from
 * that image, fresh, from a trusted root.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type KMSClient, CreateKeyCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { ChainError, toHex } from '@veritee/attestations';
import { defaultTrustStore } from '@veritee/attestations/evidence';
import { openSealedModel, parseSealedModel } from '@veritee/attestations/seal';
import { simulatedPcr } from '@veritee/attestations/sim';
import { simulator, trustWithDev } from '@veritee/mock';
import { nitroKeyPolicy, sealModelWithKms } from '@veritee/infra';
import { localKmsClient, startLocalKms, type LocalKms } from '@veritee/mock/kms';
import { releaseDataKeyWithNitro } from '../../src/keys/nitro-key-release.js';
import { createSimulatedTee } from '../../src/tee/simulated.js';

const WEIGHTS = new TextEncoder().encode('model weights '.repeat(1000));
const now = () => new Date();

describe('releaseDataKeyWithNitro', () => {
  let kms: LocalKms;
  let strictKms: LocalKms;
  let client: KMSClient;
  let keyId: string;
  let sealed: ReturnType<typeof parseSealedModel>;
  const tee = (options: { pcrs?: Record<number, Uint8Array>; clock?: () => Date } = {}) =>
    createSimulatedTee({
      simulator,
      kind: 'nitro',
      clock: options.clock ?? now,
      ...(options.pcrs === undefined ? {} : { pcrs: options.pcrs }),
    });
  const denied = (error: unknown) =>
    error instanceof ChainError && error.code === 'KEY_RELEASE_DENIED';

  before(async () => {
    kms = await startLocalKms({ trust: trustWithDev, allowSimulated: true });
    strictKms = await startLocalKms({ trust: defaultTrustStore() });
    client = localKmsClient(kms.endpoint);
    const policy = nitroKeyPolicy({
      accountId: '111122223333',
      enclaveRoleArn: 'arn:aws:iam::111122223333:role/enclave-host',
      adminRoleArn: 'arn:aws:iam::111122223333:role/operator',
      imageSha384: [toHex(simulatedPcr(0))],
    });
    keyId = (await client.send(new CreateKeyCommand({ Policy: JSON.stringify(policy) })))
      .KeyMetadata!.KeyId!;
    sealed = parseSealedModel(await sealModelWithKms({ kms: client, keyId, model: WEIGHTS }));
  });
  after(async () => {
    client.destroy();
    await kms.close();
    await strictKms.close();
  });

  it('releases the data key to the approved image, and the weights open with it', async () => {
    const dataKey = await releaseDataKeyWithNitro({
      kms: client,
      tee: tee(),
      encryptedKey: sealed.header.encryptedKey,
      keyId,
    });
    assert.deepEqual(openSealedModel(sealed, dataKey), WEIGHTS);
    assert.ok(kms.calls.includes('Decrypt'));
  });

  it('refuses an image the key policy does not approve', async () => {
    await assert.rejects(
      releaseDataKeyWithNitro({
        kms: client,
        tee: tee({ pcrs: { 0: new Uint8Array(48).fill(9) } }),
        encryptedKey: sealed.header.encryptedKey,
      }),
      denied,
    );
  });

  it('refuses a debug enclave, whose PCRs are zero', async () => {
    const zero = new Uint8Array(48);
    await assert.rejects(
      releaseDataKeyWithNitro({
        kms: client,
        tee: tee({ pcrs: { 0: zero, 1: zero, 2: zero } }),
        encryptedKey: sealed.header.encryptedKey,
      }),
      denied,
    );
  });

  it('refuses a stale attestation document', async () => {
    const tenMinutesAgo = () => new Date(Date.now() - 10 * 60 * 1000);
    await assert.rejects(
      releaseDataKeyWithNitro({
        kms: client,
        tee: tee({ clock: tenMinutesAgo }),
        encryptedKey: sealed.header.encryptedKey,
      }),
      denied,
    );
  });

  it('refuses a simulated enclave where KMS trusts only the real AWS root', async () => {
    const strict = localKmsClient(strictKms.endpoint);
    const strictKey = (await strict.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const strictSealed = parseSealedModel(
      await sealModelWithKms({ kms: strict, keyId: strictKey, model: WEIGHTS }),
    );
    await assert.rejects(
      releaseDataKeyWithNitro({
        kms: strict,
        tee: tee(),
        encryptedKey: strictSealed.header.encryptedKey,
      }),
      denied,
    );
    strict.destroy();
  });

  it('never gives the plaintext key to a caller without an attestation, operators included', async () => {
    await assert.rejects(
      client.send(new DecryptCommand({ CiphertextBlob: sealed.header.encryptedKey })),
      (error: unknown) => (error as { name?: string }).name === 'AccessDeniedException',
    );
  });

  it('refuses sealed weights opened with another key, or altered', async () => {
    const dataKey = await releaseDataKeyWithNitro({
      kms: client,
      tee: tee(),
      encryptedKey: sealed.header.encryptedKey,
    });
    assert.throws(
      () => openSealedModel(sealed, new Uint8Array(32)),
      (error: unknown) => error instanceof ChainError && error.code === 'SEALED_MODEL_OPEN_FAILED',
    );
    const altered = new Uint8Array(sealed.ciphertext);
    altered[10] = (altered[10] ?? 0) ^ 1;
    assert.throws(
      () => openSealedModel({ ...sealed, ciphertext: altered }, dataKey),
      (error: unknown) => error instanceof ChainError,
    );
  });
});
