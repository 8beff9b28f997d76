/**
 * Signing with an AWS KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256)
 * through @aws-sdk/client-kms: the private key never leaves KMS. The JWS
 * signing input goes to `Sign` as a RAW message; KMS answers DER, which JWS
 * wants as the 64-byte r || s. Rotation is an operator's act: point the
 * verifier at a new key and list the old ones as retired, so the JWKS keeps them.
 */
import { withLowS } from './low-s.js';
import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { JWK } from 'jose';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import type { Signer } from './signer.js';

const P256_COORDINATE = 32;

/** DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) to JOSE r || s. */
export function derToJoseSignature(der: Uint8Array): Uint8Array {
  const fail = (): never => {
    throw new UpstreamError('KMS_SIGNATURE_MALFORMED', 'KMS answered a malformed ECDSA signature');
  };
  // Short-form lengths only: a P-256 signature never needs more.
  const length = der[1] ?? fail();
  if (der[0] !== 0x30 || length > 0x7f || length + 2 !== der.byteLength) fail();
  let offset = 2;
  const integer = (): Uint8Array => {
    const size = der[offset + 1] ?? fail();
    if (der[offset] !== 0x02 || size === 0 || size > 0x7f) fail();
    const value = der.subarray(offset + 2, offset + 2 + size);
    if (value.byteLength !== size) fail();
    offset += 2 + size;
    // DER integers carry a leading zero when the top bit is set; JOSE does not.
    const first = value.findIndex((byte) => byte !== 0);
    if (first === -1 || value.byteLength - first > P256_COORDINATE) fail();
    return value.subarray(first);
  };
  const r = integer();
  const s = integer();
  if (offset !== der.byteLength) fail();
  const out = new Uint8Array(P256_COORDINATE * 2);
  out.set(r, P256_COORDINATE - r.byteLength);
  out.set(s, 2 * P256_COORDINATE - s.byteLength);
  return out;
}

interface KmsKey {
  readonly keyId: string;
  readonly jwk: JWK;
}

async function publicJwk(client: KMSClient, keyId: string): Promise<KmsKey> {
  let answer;
  try {
    answer = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  } catch (error) {
    // KMS's answers for a key that is missing or not an asymmetric key: fix the configuration.
    const name = (error as { name?: string }).name ?? '';
    if (
      ['NotFoundException', 'UnsupportedOperationException', 'InvalidKeyUsageException'].includes(
        name,
      )
    )
      throw new ConfigError(
        'SIGNING_KEY_INVALID',
        `KMS key ${keyId} cannot sign receipts (${name})`,
        {
          cause: error,
        },
      );
    throw new UpstreamError('KMS_UNAVAILABLE', `KMS could not give the public key of ${keyId}`, {
      cause: error,
    });
  }
  if (answer.KeySpec !== 'ECC_NIST_P256' || answer.PublicKey === undefined)
    throw new ConfigError(
      'SIGNING_KEY_INVALID',
      `KMS key ${keyId} is ${answer.KeySpec ?? 'unknown'}; receipts need ECC_NIST_P256`,
    );
  const der = Buffer.from(answer.PublicKey);
  const jwk = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const kid = `kms-${createHash('sha256').update(der).digest('base64url').slice(0, 16)}`;
  return { keyId, jwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

/**
 * @param keyId the current key (id, ARN or alias)
 * @param retiredKeys keys that signed earlier statements, with when each was retired: kept in
 *   the JWKS with that time as `exp`, never used to sign
 * @throws ConfigError SIGNING_KEY_INVALID, UpstreamError KMS_UNAVAILABLE
 */
export async function openKmsSigner(options: {
  readonly client: KMSClient;
  readonly keyId: string;
  readonly retiredKeys?: ReadonlyArray<{ readonly keyId: string; readonly retiredAt: Date }>;
}): Promise<Signer> {
  const current = await publicJwk(options.client, options.keyId);
  const retired = await Promise.all(
    (options.retiredKeys ?? []).map(async ({ keyId, retiredAt }) => {
      const key = await publicJwk(options.client, keyId);
      return { ...key, jwk: { ...key.jwk, exp: Math.floor(retiredAt.getTime() / 1000) } };
    }),
  );
  return {
    description: `AWS KMS key ${options.keyId}`,
    async sign(claims, typ) {
      const header = Buffer.from(
        JSON.stringify({ alg: 'ES256', kid: current.jwk.kid, typ }),
      ).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const input = `${header}.${payload}`;
      let answer;
      try {
        answer = await options.client.send(
          new SignCommand({
            KeyId: current.keyId,
            Message: Buffer.from(input),
            MessageType: 'RAW',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        );
      } catch (error) {
        throw new UpstreamError('KMS_UNAVAILABLE', 'KMS did not sign', { cause: error });
      }
      if (answer.Signature === undefined)
        throw new UpstreamError('KMS_SIGNATURE_MALFORMED', 'KMS answered no signature');
      return withLowS(
        `${input}.${Buffer.from(derToJoseSignature(answer.Signature)).toString('base64url')}`,
      );
    },
    jwks: () => ({ keys: [current.jwk, ...retired.map((key) => key.jwk)] }),
    rotate: () =>
      Promise.reject(
        new ConfigError(
          'SIGNING_KEY_INVALID',
          'a KMS key rotates by configuration: set VERITEE_KMS_KEY_ID to the new key and add the old one, with the time it was retired, to VERITEE_KMS_RETIRED_KEY_IDS',
        ),
      ),
  };
}
