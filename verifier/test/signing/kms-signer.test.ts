/**
 * The KMS signer through the real @aws-sdk/client-kms, against a local
 * endpoint that speaks KMS's JSON protocol (infra/src/kms/local-kms.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import { defaultTrustStore } from '@veritee/attestations/evidence';
import { localKmsClient, startLocalKms, type LocalKms } from '@veritee/mock/kms';
import { derToJoseSignature, openKmsSigner } from '../../src/signing/kms-signer.js';

describe('openKmsSigner', () => {
  let kms: LocalKms;
  let client: KMSClient;
  const createKey = async (spec: 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT') =>
    (
      await client.send(
        new CreateKeyCommand({
          KeySpec: spec,
          KeyUsage: spec === 'ECC_NIST_P256' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT',
        }),
      )
    ).KeyMetadata!.KeyId!;

  before(async () => {
    kms = await startLocalKms({ trust: defaultTrustStore() });
    client = localKmsClient(kms.endpoint);
  });
  after(async () => {
    client.destroy();
    await kms.close();
  });

  it('signs ES256 JWS through KMS Sign that verify with its JWKS', async () => {
    const signer = await openKmsSigner({ client, keyId: await createKey('ECC_NIST_P256') });
    const jws = await signer.sign({ hello: 'world', n: 1 }, 'veritee.receipt/v1');
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(signer.jwks()));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { hello: 'world', n: 1 });
    assert.equal(protectedHeader.typ, 'veritee.receipt/v1');
    assert.equal(protectedHeader.alg, 'ES256');
    assert.ok(kms.calls.includes('Sign') && kms.calls.includes('GetPublicKey'));
  });

  it('keeps retired keys in the JWKS with their retirement time, but signs with the current one', async () => {
    const old = await createKey('ECC_NIST_P256');
    const before = await openKmsSigner({ client, keyId: old });
    const earlier = await before.sign({ n: 1 }, 'x');
    const retiredAt = new Date('2026-11-01T00:00:00Z');
    const signer = await openKmsSigner({
      client,
      keyId: await createKey('ECC_NIST_P256'),
      retiredKeys: [{ keyId: old, retiredAt }],
    });
    const jwks = signer.jwks();
    assert.equal(jwks.keys.length, 2);
    assert.equal((jwks.keys[0] as { exp?: number }).exp, undefined);
    assert.equal((jwks.keys[1] as { exp?: number }).exp, retiredAt.getTime() / 1000);
    await compactVerify(earlier, createLocalJWKSet(jwks));
    const now = await signer.sign({ n: 2 }, 'x');
    assert.equal(decodeProtectedHeader(now).kid, jwks.keys[0]!.kid);
    await assert.rejects(signer.rotate(), (error: unknown) => error instanceof ConfigError);
  });

  it('refuses a key that cannot sign ES256, or does not exist', async () => {
    await assert.rejects(
      openKmsSigner({ client, keyId: await createKey('SYMMETRIC_DEFAULT') }),
      (error: unknown) => error instanceof ConfigError && error.code === 'SIGNING_KEY_INVALID',
    );
    await assert.rejects(
      openKmsSigner({ client, keyId: '00000000-0000-0000-0000-000000000000' }),
      (error: unknown) => error instanceof ConfigError && error.code === 'SIGNING_KEY_INVALID',
    );
  });

  it('fails with KMS_UNAVAILABLE when KMS cannot be reached', async () => {
    const unreachable = new KMSClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    await assert.rejects(
      openKmsSigner({ client: unreachable, keyId: 'any' }),
      (error: unknown) => error instanceof UpstreamError && error.code === 'KMS_UNAVAILABLE',
    );
    unreachable.destroy();
  });
});

describe('derToJoseSignature', () => {
  const der = (r: number[], s: number[]) =>
    new Uint8Array([0x30, r.length + s.length + 4, 0x02, r.length, ...r, 0x02, s.length, ...s]);

  it('strips the sign byte and left-pads each integer to 32 bytes', () => {
    const r = [0x00, 0x80, ...new Array<number>(31).fill(1)];
    const s = [0x05];
    const jose = derToJoseSignature(der(r, s));
    assert.equal(jose.byteLength, 64);
    assert.deepEqual([...jose.subarray(0, 32)], [0x80, ...new Array<number>(31).fill(1)]);
    assert.deepEqual([...jose.subarray(32)], [...new Array<number>(31).fill(0), 0x05]);
  });

  it('rejects anything but a well-formed pair of short integers', () => {
    const good = der([1], [2]);
    const cases = [
      new Uint8Array([]),
      good.subarray(0, good.length - 1),
      new Uint8Array([...good, 0]),
      new Uint8Array([0x31, ...good.subarray(1)]),
      der(new Array<number>(34).fill(1), [2]),
      der([0], [2]),
    ];
    for (const bytes of cases)
      assert.throws(
        () => derToJoseSignature(bytes),
        (error: unknown) =>
          error instanceof UpstreamError && error.code === 'KMS_SIGNATURE_MALFORMED',
      );
  });
});
