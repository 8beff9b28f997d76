/**
 * ES256 compact JWS verification with node:crypto. jose's runs on WebCrypto,
 * where a relying party checking receipts spent a fifth of its time importing
 * the same key again and verifying; this keeps each imported key and verifies
 * in one call. It accepts no more than jose's `compactVerify` with algorithms
 * ['ES256'] (the tests hold it to jose on real receipts and on every edit of
 * them), and less: base64url must be canonical, and a `crit` header is refused.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { createMemo } from '../memo.js';

/** The pinned keys of the verifiers a process checks: few, long-lived. */
const publicKeys = createMemo<KeyObject>(256);

/**
 * Bytes of a canonical base64url segment, or undefined. Encoding back yields
 * only the alphabet, no padding and no stray bits, so any other spelling fails.
 */
function segment(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function publicKeyOf(jwk: JWK): KeyObject {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string')
    throw new Error('the key is not an EC P-256 public key');
  return publicKeys.remember(`${x}.${y}`, () =>
    createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' }),
  );
}

/**
 * The protected header and payload of `compact` when it is an ES256 JWS that
 * verifies with `jwk`.
 * @throws Error when it is not, or does not verify (callers map it to their own code)
 */
export function verifyEs256Compact(
  compact: string,
  jwk: JWK,
): { readonly protectedHeader: Record<string, unknown>; readonly payload: Uint8Array } {
  const parts = compact.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const [headerText = '', payloadText = '', signatureText = ''] = parts;
  const headerBytes = segment(headerText);
  const payload = segment(payloadText);
  const signature = segment(signatureText);
  if (headerBytes === undefined || payload === undefined || signature === undefined)
    throw new Error('a segment is not canonical base64url');
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    throw new Error('the protected header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new Error('the protected header is not an object');
  const protectedHeader = header as Record<string, unknown>;
  if (protectedHeader['alg'] !== 'ES256') throw new Error('the algorithm is not ES256');
  if ('crit' in protectedHeader) throw new Error('the header names critical extensions');
  if (signature.byteLength !== 64) throw new Error('an ES256 signature is 64 bytes');
  const signed = Buffer.from(`${headerText}.${payloadText}`, 'ascii');
  if (!verify('sha256', signed, { key: publicKeyOf(jwk), dsaEncoding: 'ieee-p1363' }, signature))
    throw new Error('the signature does not verify');
  return { protectedHeader, payload: new Uint8Array(payload) };
}
