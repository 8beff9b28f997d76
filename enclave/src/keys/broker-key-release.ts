/**
 * Key release on SEV-SNP through the verifier's key broker: the enclave takes
 * a fresh challenge from the broker, makes an X25519 key pair, quotes a digest
 * binding the key, the challenge's SHA-256 (the nonce) and the wrapped data key
 * it asks for (`veritee.key-release/v1`), and opens the data key the broker
 * seals to that key. The private key never leaves this process.
 */
import { fetchBounded } from '@veritee/http';
import { createHash } from 'node:crypto';
import { ChainError, toHex, UpstreamError } from '@veritee/attestations';
import {
  generateEnclaveKeyPair,
  keyReleaseDigest,
  openReleasedKey,
} from '@veritee/attestations/seal';
import type { TeeProvider } from '../tee/provider.js';

/**
 * @throws ChainError KEY_RELEASE_DENIED when the broker refuses, KEY_RELEASE_OPEN_FAILED
 * @throws UpstreamError KEY_BROKER_UNAVAILABLE
 */
/** Largest broker answer read: a sealed 32-byte key and a signed statement. */
const MAX_BROKER_ANSWER_BYTES = 64 * 1024;

export async function releaseDataKeyWithBroker(options: {
  /** The verifier's base URL. */
  readonly broker: string;
  readonly tee: TeeProvider;
  /** The data key as KMS encrypted it (CiphertextBlob). */
  readonly encryptedKey: Uint8Array;
  readonly fetch?: typeof fetch;
}): Promise<Uint8Array> {
  const base = options.broker.replace(/\/+$/, '');
  const post = async (
    path: string,
    body: unknown,
  ): Promise<{ status: number; ok: boolean; json: unknown }> => {
    const response = await fetchBounded(`${base}${path}`, {
      errorCode: 'KEY_BROKER_UNAVAILABLE',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: 30_000,
      maxBytes: MAX_BROKER_ANSWER_BYTES,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    let json: unknown = {};
    try {
      json = response.json();
    } catch {
      // An answer that is not JSON is judged by its status below.
    }
    return { status: response.status, ok: response.ok, json };
  };
  const challenged = await post('/v1/keys/challenge', {});
  const { challenge } = challenged.json as { challenge?: unknown };
  if (!challenged.ok || typeof challenge !== 'string')
    throw new UpstreamError(
      'KEY_BROKER_UNAVAILABLE',
      `the key broker gave no challenge (${challenged.status})`,
    );
  const keyPair = generateEnclaveKeyPair();
  const nonce = new Uint8Array(createHash('sha256').update(challenge).digest());
  const request = { enclaveKey: keyPair.publicKey, nonce, encryptedKey: options.encryptedKey };
  const evidence = await options.tee.quote({
    reportData: keyReleaseDigest(request),
    nonce,
    publicKey: keyPair.publicKey,
  });
  const response = await post('/v1/keys/release', {
    evidence: Buffer.from(evidence).toString('base64'),
    enclaveKey: toHex(keyPair.publicKey),
    nonce: toHex(nonce),
    challenge,
    encryptedKey: Buffer.from(options.encryptedKey).toString('base64'),
  });
  const body = response.json as {
    sealedKey?: string;
    code?: string;
    codes?: string[];
  };
  if (response.status >= 400 && response.status < 500)
    throw new ChainError(
      'KEY_RELEASE_DENIED',
      `the key broker refused: ${[...(body.codes ?? [body.code ?? String(response.status)])].join(', ').slice(0, 300)}`,
    );
  if (!response.ok || typeof body.sealedKey !== 'string')
    throw new UpstreamError('KEY_BROKER_UNAVAILABLE', `the key broker answered ${response.status}`);
  return openReleasedKey(keyPair, new Uint8Array(Buffer.from(body.sealedKey, 'base64')));
}
