/**
 * Key release through the verifier (`veritee.key-release/v1`), for SEV-SNP,
 * which KMS knows nothing of: the enclave quotes a digest binding a fresh
 * X25519 key, a nonce and the wrapped data key it asks for; the verifier
 * appraises the quote, unwraps the data key with KMS, logs the release, and
 * seals the key to the attested X25519 key with HPKE (RFC 9180 base mode,
 * info = the format tag), so only that enclave can open it.
 *
 * Report data: SHA-512(lengthPrefixed(tag, enclaveKey, nonce, SHA-256(encryptedKey))).
 * Sealed key: enc (32 bytes) || AES-256-GCM ciphertext of the data key.
 */
import { createHash } from 'node:crypto';
import { lengthPrefixed } from '../wire/binding.js';
import { ChainError, EvidenceError } from '../errors.js';
import { open, seal, setupRecipient, setupSender, type HpkeKeyPair } from './hpke.js';

export const KEY_RELEASE_FORMAT = 'veritee.key-release/v1';
/** The logged key release statement's JWS header `typ` (RFC 8725, section 3.11). */
export const KEY_RELEASE_HEADER_TYPE = 'veritee-key-release+jwt';
const INFO = new TextEncoder().encode(KEY_RELEASE_FORMAT);
const X25519_KEY_SIZE = 32;

export interface KeyReleaseRequest {
  readonly enclaveKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly encryptedKey: Uint8Array;
}

/** @throws EvidenceError KEY_RELEASE_MALFORMED for a key that is not 32 bytes or a nonce not 16 to 64 */
export function keyReleaseDigest(request: KeyReleaseRequest): Uint8Array {
  if (request.enclaveKey.byteLength !== X25519_KEY_SIZE)
    throw new EvidenceError('KEY_RELEASE_MALFORMED', 'the enclave key is not 32 bytes');
  if (request.nonce.byteLength < 16 || request.nonce.byteLength > 64)
    throw new EvidenceError('KEY_RELEASE_MALFORMED', 'the nonce is not 16 to 64 bytes');
  return new Uint8Array(
    createHash('sha512')
      .update(
        lengthPrefixed([
          INFO,
          request.enclaveKey,
          request.nonce,
          createHash('sha256').update(request.encryptedKey).digest(),
        ]),
      )
      .digest(),
  );
}

/** Seals a released data key to the attested enclave key. */
export function sealReleasedKey(enclaveKey: Uint8Array, dataKey: Uint8Array): Uint8Array {
  const { enc, context } = setupSender(enclaveKey, INFO);
  const ct = seal(context, dataKey);
  const out = new Uint8Array(enc.byteLength + ct.byteLength);
  out.set(enc);
  out.set(ct, enc.byteLength);
  return out;
}

/**
 * @throws EvidenceError KEY_RELEASE_MALFORMED when too short
 * @throws ChainError KEY_RELEASE_OPEN_FAILED when sealed to another key or altered
 */
export function openReleasedKey(keyPair: HpkeKeyPair, sealed: Uint8Array): Uint8Array {
  if (sealed.byteLength < X25519_KEY_SIZE + 16)
    throw new EvidenceError('KEY_RELEASE_MALFORMED', 'the sealed key is too short');
  try {
    const context = setupRecipient(keyPair, sealed.subarray(0, X25519_KEY_SIZE), INFO);
    return open(context, sealed.subarray(X25519_KEY_SIZE));
  } catch (error) {
    throw new ChainError(
      'KEY_RELEASE_OPEN_FAILED',
      'the released key was sealed to another key or altered',
      {
        cause: error,
      },
    );
  }
}
