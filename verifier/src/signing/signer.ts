/**
 * What signs receipts, checkpoints and attestation results: a local key
 * (local-signer.ts) or an AWS KMS key (kms-signer.ts). Both sign ES256 JWS.
 */
import type { JWK } from 'jose';

export interface Signer {
  /** Where the key lives, for start-up summaries. */
  readonly description: string;
  /** Signs claims as a compact JWS (ES256, low s) with the current key; `typ` goes in the header. */
  sign(claims: Record<string, unknown>, typ: string): Promise<string>;
  /**
   * Every public key, current first: the JWKS relying parties fetch. A retired
   * key carries `exp`, the second it was retired (as OpenID Federation's
   * historical keys): it vouches only for statements issued before.
   */
  jwks(): { keys: JWK[] };
  /** Makes a new key current; the old one stays in the JWKS. */
  rotate(): Promise<void>;
}
