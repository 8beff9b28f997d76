/**
 * Raw X25519 and Ed25519 public keys (RFC 8410). Read from the key's SPKI DER,
 * a fixed 12-byte prefix then the 32-byte key, never from a JWK export: on
 * Node 20, exporting the JWK of a key pair just generated can deadlock when
 * garbage collection runs during the export (the collected key generation job
 * waits for the key's lock, which the export holds).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

const SPKI_PREFIX = {
  x25519: Buffer.from('302a300506032b656e032100', 'hex'),
  ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
} as const;

/** The 32-byte public key of an X25519 or Ed25519 key (either half of the pair). */
export function rawOkpPublicKey(key: KeyObject): Uint8Array {
  const type = key.asymmetricKeyType;
  if (type !== 'x25519' && type !== 'ed25519')
    throw new TypeError(`an X25519 or Ed25519 key was expected, not ${type ?? 'a secret key'}`);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const prefix = SPKI_PREFIX[type];
  if (
    spki.byteLength !== prefix.byteLength + 32 ||
    !spki.subarray(0, prefix.byteLength).equals(prefix)
  )
    throw new TypeError(`the ${type} key's SPKI is not the RFC 8410 form`);
  return new Uint8Array(spki.subarray(prefix.byteLength));
}
