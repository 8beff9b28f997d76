/**
 * Key release on SEV-SNP through the verifier's key broker, over real HTTP,
 * with the real AWS SDK against the local KMS endpoint: the key reaches only
 * evidence that passes the policy in force, and every release is in the log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { compactVerify, createLocalJWKSet } from 'jose';
import { ChainError, toHex } from '@veritee/attestations';
import { defaultTrustStore } from '@veritee/attestations/evidence';
import { openSealedModel, parseSealedModel } from '@veritee/attestations/seal';
import { simulator, trustWithDev } from '@veritee/mock';
import { sealModelWithKms } from '@veritee/infra';
import { localKmsClient, startLocalKms, type LocalKms } from '@veritee/mock/kms';
import {
  type ReceiptLog,
  openSqliteLog,
  createInlineAppraiser,
  kmsUnwrap,
  type PolicyRegistry,
  openLocalSigner,
  type Signer,
  createVerifier,
} from '@veritee/verifier';
import { releaseDataKeyWithBroker } from '../../src/keys/broker-key-release.js';
import { createSimulatedTee } from '../../src/tee/simulated.js';
import type { TeeProvider } from '../../src/tee/provider.js';

const WEIGHTS = new TextEncoder().encode('weights for a confidential VM '.repeat(500));

describe('releaseDataKeyWithBroker', () => {
  let kms: LocalKms;
  let client: KMSClient;
  let dir: string;
  let log: ReceiptLog;
  let signer: Signer;
  let registry: PolicyRegistry;
  let server: Server;
  let broker: string;
  let sealed: ReturnType<typeof parseSealedModel>;
  const tee = createSimulatedTee({ simulator, kind: 'sev-snp', clock: () => new Date() });
  const custom = (quote: TeeProvider['quote']): TeeProvider => ({ ...tee, quote });
  const denied = (error: unknown) =>
    error instanceof ChainError && error.code === 'KEY_RELEASE_DENIED';
  const releases = async () => (await log.findReceipts('release-')).length;
  let skewMs = 0; // the broker's clock runs this far ahead of the enclave's
  const challengeInvalid = (error: unknown) =>
    denied(error) && /KEY_RELEASE_CHALLENGE_INVALID/.test((error as Error).message);

  before(async () => {
    kms = await startLocalKms({ trust: defaultTrustStore() });
    client = localKmsClient(kms.endpoint);
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    sealed = parseSealedModel(await sealModelWithKms({ kms: client, keyId, model: WEIGHTS }));
    dir = await mkdtemp(join(tmpdir(), 'veritee-broker-'));
    log = openSqliteLog(join(dir, 'log.db'));
    signer = await openLocalSigner(join(dir, 'keys'), () => new Date());
    const verifier = await createVerifier({
      log,
      signer,
      appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
      issuer: 'https://verifier.test',
      basePolicy: { id: 'prod', version: 1, policy: {} },
      unwrap: kmsUnwrap(client),
      clock: () => new Date(Date.now() + skewMs),
    });
    registry = verifier.registry;
    server = verifier.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    broker = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await log.close();
    client.destroy();
    await kms.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('releases the data key to evidence that passes, and logs a signed statement of it', async () => {
    const dataKey = await releaseDataKeyWithBroker({
      broker,
      tee,
      encryptedKey: sealed.header.encryptedKey,
    });
    assert.deepEqual(openSealedModel(sealed, dataKey), WEIGHTS);
    const [logged] = await log.findReceipts('release-');
    assert.ok(logged !== undefined, 'the release is in the log');
    const { payload, protectedHeader } = await compactVerify(
      logged.receipt,
      createLocalJWKSet(signer.jwks()),
    );
    assert.equal(protectedHeader.typ, 'veritee-key-release+jwt');
    const claims = JSON.parse(new TextDecoder().decode(payload)) as {
      tee: { simulated: boolean };
      log: { index: number };
    };
    assert.equal(claims.tee.simulated, true);
    assert.equal(claims.log.index, logged.index);
  });

  it('refuses a debug guest, and logs nothing', async () => {
    const before = await releases();
    const debug = custom(
      async ({ reportData }) =>
        (await simulator.snp({ at: new Date(), reportData, debug: true })).evidence,
    );
    await assert.rejects(
      releaseDataKeyWithBroker({ broker, tee: debug, encryptedKey: sealed.header.encryptedKey }),
      (error: unknown) => denied(error) && /POLICY_DEBUG_ENABLED/.test((error as Error).message),
    );
    assert.equal(await releases(), before);
  });

  it('refuses evidence that does not bind the request', async () => {
    const unbound = custom(
      async () =>
        (await simulator.snp({ at: new Date(), reportData: new Uint8Array(64) })).evidence,
    );
    await assert.rejects(
      releaseDataKeyWithBroker({ broker, tee: unbound, encryptedKey: sealed.header.encryptedKey }),
      denied,
    );
  });

  it('refuses a release whose challenge went stale before the evidence arrived', async () => {
    const before = await releases();
    const slow: typeof fetch = async (url, init) => {
      if ((url instanceof Request ? url.url : url.toString()).endsWith('/v1/keys/release'))
        skewMs = 61_000;
      try {
        return await fetch(url, init);
      } finally {
        skewMs = 0;
      }
    };
    await assert.rejects(
      releaseDataKeyWithBroker({
        broker,
        tee,
        encryptedKey: sealed.header.encryptedKey,
        fetch: slow,
      }),
      challengeInvalid,
    );
    assert.equal(await releases(), before);
  });

  it('refuses a challenge the broker did not sign', async () => {
    const forged: typeof fetch = async (url, init) =>
      (url instanceof Request ? url.url : url.toString()).endsWith('/v1/keys/challenge')
        ? Response.json({ challenge: 'eyJhbGciOiJub25lIn0.e30.' })
        : fetch(url, init);
    await assert.rejects(
      releaseDataKeyWithBroker({
        broker,
        tee,
        encryptedKey: sealed.header.encryptedKey,
        fetch: forged,
      }),
      challengeInvalid,
    );
  });

  it('refuses a replayed release request: each challenge is good once, and logged once', async () => {
    let releaseBody: string | undefined;
    const recording: typeof fetch = async (url, init) => {
      if ((url instanceof Request ? url.url : url.toString()).endsWith('/v1/keys/release'))
        releaseBody = typeof init?.body === 'string' ? init.body : undefined;
      return fetch(url, init);
    };
    await releaseDataKeyWithBroker({
      broker,
      tee,
      encryptedKey: sealed.header.encryptedKey,
      fetch: recording,
    });
    assert.ok(releaseBody !== undefined);
    const before = await releases();
    const decrypts = kms.calls.filter((call) => call === 'Decrypt').length;
    for (let replay = 0; replay < 3; replay++) {
      const response = await fetch(`${broker}/v1/keys/release`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: releaseBody,
      });
      const problem = (await response.json()) as { code: string; codes: string[] };
      assert.deepEqual(
        [response.status, problem.code, problem.codes],
        [422, 'KEY_RELEASE_DENIED', ['KEY_RELEASE_CHALLENGE_USED']],
      );
    }
    assert.equal(await releases(), before, 'no replay reached the log');
    assert.equal(kms.calls.filter((call) => call === 'Decrypt').length, decrypts, 'nor KMS');
  });

  it('refuses a challenge whose signature was rewritten as (r, n - s)', async () => {
    const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const malleated: typeof fetch = async (url, init) => {
      const response = await fetch(url, init);
      if (!(url instanceof Request ? url.url : url.toString()).endsWith('/v1/keys/challenge'))
        return response;
      const { challenge } = (await response.json()) as { challenge: string };
      const [header, payload, signature] = challenge.split('.');
      const bytes = Buffer.from(signature!, 'base64url');
      const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
      Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex').copy(bytes, 32);
      return Response.json({ challenge: `${header}.${payload}.${bytes.toString('base64url')}` });
    };
    const before = await releases();
    await assert.rejects(
      releaseDataKeyWithBroker({
        broker,
        tee,
        encryptedKey: sealed.header.encryptedKey,
        fetch: malleated,
      }),
      challengeInvalid,
    );
    assert.equal(await releases(), before);
  });

  it('refuses a measurement no longer approved', async () => {
    await registry.change(
      'register',
      { tee: 'sev-snp', measurement: toHex(new Uint8Array(48).fill(7)) },
      undefined,
    );
    await assert.rejects(
      releaseDataKeyWithBroker({ broker, tee, encryptedKey: sealed.header.encryptedKey }),
      (error: unknown) =>
        denied(error) && /POLICY_MEASUREMENT_NOT_ALLOWED/.test((error as Error).message),
    );
  });
});
