/**
 * The verifier's local signing keys (ES256, P-256): generated on first start,
 * each stored as a private JWK readable by the owner only, rotatable, with
 * retired keys kept in the JWKS so receipts they signed still verify.
 * Signing is node:crypto's (three times jose's WebCrypto path on the receipt
 * hot path); every test verifies what it signs with jose.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { ConfigError } from '@veritee/attestations';
import type { Signer } from './signer.js';
import { withLowS } from './low-s.js';

const ALG = 'ES256';

interface StoredKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
  readonly created: string;
}

async function load(file: string): Promise<StoredKey> {
  const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK & { created: string };
  const { d: _d, created, ...publicJwk } = jwk;
  return {
    kid: jwk.kid ?? '',
    privateKey: createPrivateKey({
      key: jwk as JsonWebKey,
      format: 'jwk',
    }),
    publicJwk,
    created,
  };
}

export async function openLocalSigner(dir: string, clock: () => Date): Promise<Signer> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let keys: StoredKey[];
  try {
    const files = (await readdir(dir)).filter((name) => name.endsWith('.jwk.json'));
    keys = await Promise.all(files.map((name) => load(join(dir, name))));
  } catch (error) {
    throw new ConfigError('SIGNING_KEY_INVALID', `signing keys in ${dir} cannot be read`, {
      cause: error,
    });
  }
  keys.sort((a, b) => b.created.localeCompare(a.created));

  const create = async (): Promise<StoredKey> => {
    // Encoded while the generation job is alive and read back: a JWK export of
    // the generated KeyObject can deadlock on Node 20 (see generateHpkeKeyPair).
    const { privateKey: pkcs8 } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    });
    const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const created = clock().toISOString();
    const publicJwk: JWK = {
      ...(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK),
      alg: ALG,
      use: 'sig',
    };
    const kid = `${created.slice(0, 10)}-${Buffer.from(publicJwk.x ?? '', 'base64url')
      .subarray(0, 6)
      .toString('hex')}`;
    const file = join(dir, `${kid}.jwk.json`);
    await writeFile(
      file,
      JSON.stringify({
        ...privateKey.export({ format: 'jwk' }),
        kid,
        alg: ALG,
        use: 'sig',
        created,
      }),
      { mode: 0o600 },
    );
    await chmod(file, 0o600);
    return { kid, privateKey, publicJwk: { ...publicJwk, kid }, created };
  };
  if (keys.length === 0) keys = [await create()];

  return {
    description: `local key in ${dir}`,
    sign: (claims, typ) => {
      const current = keys[0] as StoredKey;
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const input = `${encode({ alg: ALG, kid: current.kid, typ })}.${encode(claims)}`;
      // JWS ES256 signatures are r || s (IEEE P1363), not DER.
      const signature = sign('sha256', Buffer.from(input), {
        key: current.privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      return Promise.resolve(withLowS(`${input}.${signature.toString('base64url')}`));
    },
    // Each key was retired when the next one was made.
    jwks: () => ({
      keys: keys.map((key, index) => {
        const successor = keys[index - 1];
        return successor === undefined
          ? key.publicJwk
          : { ...key.publicJwk, exp: Math.floor(Date.parse(successor.created) / 1000) };
      }),
    }),
    rotate: async () => {
      keys = [await create(), ...keys];
    },
  };
}
