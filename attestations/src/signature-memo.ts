/**
 * Whether a signature verifies is a fact of its bytes and the key, never of
 * the time: remember each result, so a certificate link, a CRL, or a quote
 * seen before (every receipt of one batched quote carries the same one) costs
 * no public-key operation again. Validity, revocation and policy are checked
 * anew at every use; only this is kept.
 */
import { createHash } from 'node:crypto';
import { createMemo } from './memo.js';

/** Certificate links and CRLs: few, long-lived (an ASK for years, a CRL for a week). */
export const chainSignatures = createMemo<boolean>(10_000);
/** SNP reports and Nitro documents: one per quote, repeated across a batch's receipts. */
export const evidenceSignatures = createMemo<boolean>(10_000);
/** Signed notes: a checkpoint is shared by every receipt of its commit group. */
export const noteSignatures = createMemo<boolean>(10_000);

/** The key prefix of every link from the certificate with this fingerprint up to its issuers. */
export function linkKeyPrefix(childFingerprint: string): string {
  return `cert:${childFingerprint}:`;
}

/** A memo key for a signature over `signed` by the certificate with `keyFingerprint`. */
export function signatureKey(
  kind: string,
  signed: Uint8Array,
  signature: Uint8Array,
  keyFingerprint: string,
): string {
  const digest = createHash('sha256')
    .update(String(signed.byteLength))
    .update(':')
    .update(signed)
    .update(signature)
    .digest('base64');
  return `${kind}:${digest}:${keyFingerprint}`;
}
