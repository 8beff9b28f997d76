/**
 * An enclave that starts from sealed weights, as real processes over real
 * HTTP: the enclave gets its model's data key released by AWS KMS (Nitro,
 * through the real SDK against the local KMS endpoint) or by the verifier's
 * key broker (SEV-SNP), and refuses to start when the release is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { toHex } from '@veritee/attestations';
import { simulatedPcr } from '@veritee/attestations/sim';
import { BUNDLED_MODEL, bundledModelHash } from '@veritee/enclave';
import { nitroKeyPolicy, sealModelWithKms } from '@veritee/infra';
import { localKmsClient, startLocalKms, type LocalKms } from '@veritee/mock/kms';
import { startService, type Service, createHome, startTestVerifier } from '@veritee/mock/system';
import { trustWithDev } from '@veritee/mock';

/** Any region and credentials do for the local endpoint; the SDK needs some. */
const AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
};

/** The Nitro model key policy, admitting one image. */
const policyAdmitting = (imageSha384: string) =>
  nitroKeyPolicy({
    accountId: '111122223333',
    enclaveRoleArn: 'arn:aws:iam::111122223333:role/enclave-host',
    adminRoleArn: 'arn:aws:iam::111122223333:role/operator',
    imageSha384: [imageSha384],
  });

describe('enclave start-up from a sealed model', () => {
  let home: string;
  let kms: LocalKms;
  let client: KMSClient;
  const started: Service[] = [];

  /** A KMS key (with a key policy, if given) and the bundled model sealed under it, in a file. */
  async function sealUnder(name: string, policy?: unknown): Promise<string> {
    const keyId = (
      await client.send(
        new CreateKeyCommand(policy === undefined ? {} : { Policy: JSON.stringify(policy) }),
      )
    ).KeyMetadata!.KeyId!;
    const sealed = await sealModelWithKms({
      kms: client,
      keyId,
      model: new Uint8Array(readFileSync(BUNDLED_MODEL.path)),
    });
    const path = join(home, `${name}.sealed`);
    writeFileSync(path, sealed);
    return path;
  }

  function startEnclave(env: Record<string, string>): Promise<Service> {
    return startService('enclave', {
      home,
      mode: 'source',
      env: {
        ...AWS_ENV,
        VERITEE_ENCLAVE_LISTEN: '127.0.0.1:0',
        VERITEE_MODEL_CONFIG: BUNDLED_MODEL.configPath,
        VERITEE_MODEL_SHA256: BUNDLED_MODEL.sha256,
        ...env,
      },
    }).then((service) => {
      started.push(service);
      return service;
    });
  }

  async function startVerifier(name: string, env: Record<string, string>): Promise<Service> {
    const service = await startTestVerifier(home, {
      ...AWS_ENV,
      VERITEE_VERIFIER_DATA: join(home, name),
      VERITEE_KEY_BROKER: '1',
      VERITEE_KMS_ENDPOINT: kms.endpoint,
      ...env,
    });
    started.push(service);
    return service;
  }

  const logSize = async (verifier: Service) =>
    ((await (await fetch(`${verifier.url}/v1/log/checkpoint`)).json()) as { size: number }).size;

  before(async () => {
    home = createHome();
    kms = await startLocalKms({ trust: trustWithDev, allowSimulated: true });
    client = localKmsClient(kms.endpoint);
  });
  after(async () => {
    await Promise.all(started.map((service) => service.stop()));
    client.destroy();
    await kms.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('Nitro: KMS releases the key to the approved image, and the enclave serves the pinned model', async () => {
    const sealed = await sealUnder('nitro', policyAdmitting(toHex(simulatedPcr(0))));
    const decrypts = kms.calls.filter((call) => call === 'Decrypt').length;
    const enclave = await startEnclave({
      VERITEE_TEE: 'sim-nitro',
      VERITEE_MODEL: sealed,
      VERITEE_MODEL_KEY_RELEASE: 'kms',
      VERITEE_KMS_ENDPOINT: kms.endpoint,
    });
    assert.match(enclave.banner, /sealed; key released by AWS KMS/);
    assert.match(enclave.banner, new RegExp(`model hash\\s+${await bundledModelHash()}`));
    assert.equal(kms.calls.filter((call) => call === 'Decrypt').length, decrypts + 1);
    const evidence = await fetch(`${enclave.url}/v1/evidence`);
    assert.equal(evidence.status, 200);
    // The plaintext weights stayed in memory: nothing new beside the sealed files.
    assert.deepEqual(
      readdirSync(home).filter((name) => !/\.sealed$|^dev-pki\.json$|^logs$|^verifier/.test(name)),
      [],
    );
    const log = readFileSync(enclave.logFile, 'utf8');
    assert.match(log, /releasing the model key from AWS KMS/);
    await enclave.stop();
  });

  it('Nitro: an image the key policy does not approve is refused its key, and the enclave does not start', async () => {
    const sealed = await sealUnder('other-image', policyAdmitting('ab'.repeat(48)));
    await assert.rejects(
      startEnclave({
        VERITEE_TEE: 'sim-nitro',
        VERITEE_MODEL: sealed,
        VERITEE_MODEL_KEY_RELEASE: 'kms',
        VERITEE_KMS_ENDPOINT: kms.endpoint,
      }),
      /exited with 2 before listening: veritee enclave: KEY_RELEASE_DENIED: KMS refused to release the key \(AccessDeniedException\)/,
    );
  });

  it('SEV-SNP: the key broker releases the key and logs the release; the enclave serves the pinned model', async () => {
    const sealed = await sealUnder('snp');
    const verifier = await startVerifier('verifier-dev', {});
    const sizeBefore = await logSize(verifier);
    const enclave = await startEnclave({
      VERITEE_TEE: 'sim',
      VERITEE_MODEL: sealed,
      VERITEE_MODEL_KEY_RELEASE: 'broker',
      VERITEE_KEY_BROKER_URL: verifier.url,
    });
    assert.match(enclave.banner, /sealed; key released by the key broker/);
    assert.match(enclave.banner, new RegExp(`model hash\\s+${await bundledModelHash()}`));
    assert.equal(await logSize(verifier), sizeBefore + 1, 'the release is in the log');
    await enclave.stop();
  });

  it('SEV-SNP: a broker whose policy refuses the evidence releases nothing, and the enclave does not start', async () => {
    const sealed = await sealUnder('snp-strict');
    // This verifier trusts only the real AMD roots, so simulated evidence fails its policy.
    const strict = await startVerifier('verifier-strict', { VERITEE_ALLOW_SIMULATED: '0' });
    const sizeBefore = await logSize(strict);
    await assert.rejects(
      startEnclave({
        VERITEE_TEE: 'sim',
        VERITEE_MODEL: sealed,
        VERITEE_MODEL_KEY_RELEASE: 'broker',
        VERITEE_KEY_BROKER_URL: strict.url,
      }),
      /exited with 2 before listening: veritee enclave: KEY_RELEASE_DENIED: the key broker refused/,
    );
    assert.equal(await logSize(strict), sizeBefore, 'nothing was logged');
  });

  it('refuses a sealed model that is not the pinned one before asking for its key', async () => {
    const sealed = await sealUnder('unpinned');
    const decrypts = kms.calls.filter((call) => call === 'Decrypt').length;
    await assert.rejects(
      startEnclave({
        VERITEE_TEE: 'sim-nitro',
        VERITEE_MODEL: sealed,
        VERITEE_MODEL_SHA256: '00'.repeat(32),
        VERITEE_MODEL_KEY_RELEASE: 'kms',
        VERITEE_KMS_ENDPOINT: kms.endpoint,
      }),
      /MODEL_HASH_MISMATCH: sealed model holds weights with SHA-256 4801a352/,
    );
    assert.equal(kms.calls.filter((call) => call === 'Decrypt').length, decrypts);
  });

  it('names the missing setting when a sealed model is given without a key release', async () => {
    const sealed = await sealUnder('no-release');
    await assert.rejects(
      startEnclave({ VERITEE_MODEL: sealed }),
      /MODEL_SEALED: the model file is sealed/,
    );
    await assert.rejects(
      startEnclave({ VERITEE_MODEL: sealed, VERITEE_MODEL_KEY_RELEASE: 'kms' }),
      /CONFIG_INVALID: VERITEE_MODEL_KEY_RELEASE=kms needs a Nitro enclave/,
    );
    await assert.rejects(
      startEnclave({ VERITEE_MODEL: sealed, VERITEE_MODEL_KEY_RELEASE: 'broker' }),
      /CONFIG_INVALID: VERITEE_MODEL_KEY_RELEASE=broker needs VERITEE_KEY_BROKER_URL/,
    );
  });
});
