/**
 * Whether a signature verifies is a fact of its bytes and the key, never of
 * the time: remember each result, so a certificate link, a CRL, or a quote
 * seen before (every receipt of one batched quote carries the same one) costs
 * no public-key operation again. Validity, revocation and policy are checked
 * anew at every use; only this is kept. Each memo is bounded: cleared when full.
 */
import { createHash } from 'node:crypto';

export interface SignatureMemo {
  /**
   * `verify()`'s result for `key`, computed once. The key must name everything
   * the result depends on: the signed bytes (or their fingerprint), the
   * signature, and the key's certificate fingerprint.
   */
  remember(key: string, verify: () => boolean): boolean;
  /** Forgets every result (benchmarks measure a first sight this way). */
  clear(): void;
  /** Forgets the results whose keys start with `prefix` (one certificate's links, say). */
  forget(prefix: string): void;
  readonly size: number;
}

export function createSignatureMemo(max: number): SignatureMemo {
  const results = new Map<string, boolean>();
  return {
    remember(key, verify) {
      let verified = results.get(key);
      if (verified === undefined) {
        verified = verify();
        if (results.size >= max) results.clear();
        results.set(key, verified);
      }
      return verified;
    },
    clear: () => results.clear(),
    forget(prefix) {
      for (const key of results.keys()) if (key.startsWith(prefix)) results.delete(key);
    },
    get size() {
      return results.size;
    },
  };
}

/** Certificate links and CRLs: few, long-lived (an ASK for years, a CRL for a week). */
export const chainSignatures = createSignatureMemo(10_000);
/** SNP reports and Nitro documents: one per quote, repeated across a batch's receipts. */
export const evidenceSignatures = createSignatureMemo(10_000);

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
