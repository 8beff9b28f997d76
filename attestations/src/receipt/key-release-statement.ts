/**
 * What the verifier logs and signs for each key release it grants
 * (`veritee.key-release/v1`): a signed log statement, so every release is on
 * the record before the key leaves. The release protocol itself is in
 * seal/key-release.ts.
 */
import { orderedHead, type StatementTee } from './receipt.js';
import type { KEY_RELEASE_FORMAT } from '../seal/key-release.js';

/** What the verifier logs and signs for each release. */
export interface KeyReleaseClaims {
  readonly typ: typeof KEY_RELEASE_FORMAT;
  readonly iss: string;
  readonly iat: number;
  readonly jti: string;
  readonly tee: StatementTee;
  readonly policy: { readonly id: string; readonly version: number };
  readonly enclave_key: string;
  readonly nonce: string;
  /** SHA-256 of the wrapped data key (KMS CiphertextBlob), hex. */
  readonly encrypted_key_hash: string;
  readonly evidence_hash: string;
  readonly log: { readonly index: number; readonly leaf_hash: string };
}

export type KeyReleaseEntry = Omit<KeyReleaseClaims, 'log'>;

/** A release's entry as logged: its claims without `log`, keys in this order. */
export function orderedKeyRelease(claims: KeyReleaseEntry): object {
  return {
    ...orderedHead(claims),
    policy: { id: claims.policy.id, version: claims.policy.version },
    enclave_key: claims.enclave_key,
    nonce: claims.nonce,
    encrypted_key_hash: claims.encrypted_key_hash,
    evidence_hash: claims.evidence_hash,
  };
}
