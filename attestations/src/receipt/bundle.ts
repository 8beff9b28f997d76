/**
 * The receipt bundle (`veritee.receipt-bundle/v1`): one file holding what a
 * relying party needs to check a receipt with no network, as a Sigstore
 * bundle does for a signature: the receipt, the key that signed it, the
 * checkpoint it is included in (a C2SP note with the witnesses'
 * cosignatures, or the JWS of a verifier without a log key) and the inclusion
 * proof. The bundle carries material, never trust: the keys it holds count
 * only when they are the ones the relying party pinned.
 */
import { EvidenceError } from '../errors.js';
import { parseJwks } from './verify-receipt.js';
import type { JWK } from 'jose';

export const RECEIPT_BUNDLE_FORMAT = 'veritee.receipt-bundle/v1';

/** Bundles are small: a receipt, a key, a checkpoint and up to 64 hashes. */
export const MAX_RECEIPT_BUNDLE_BYTES = 64 * 1024;

export interface ReceiptBundle {
  readonly format: typeof RECEIPT_BUNDLE_FORMAT;
  /** The receipt, a compact JWS. */
  readonly receipt: string;
  /** The verifier that issued it (its `iss`). */
  readonly issuer: string;
  /** The public key (JWK with `kid`) that signed the receipt. */
  readonly key: JWK;
  /** The verifier's log note key (vkey), when its checkpoint is a C2SP note. */
  readonly logKey?: string | undefined;
  /** The checkpoint: a C2SP signed note with any cosignatures, or a JWS. */
  readonly checkpoint: string;
  /** The RFC 9162 inclusion proof of the receipt's entry in that checkpoint, hex. */
  readonly inclusionProof: readonly string[];
}

const HASH_HEX = /^[0-9a-f]{64}$/;

/** @throws EvidenceError RECEIPT_BUNDLE_MALFORMED naming what is wrong */
export function parseReceiptBundle(text: string): ReceiptBundle {
  const malformed = (detail: string) =>
    new EvidenceError('RECEIPT_BUNDLE_MALFORMED', `the receipt bundle ${detail}`);
  if (text.length > MAX_RECEIPT_BUNDLE_BYTES)
    throw malformed(`is larger than ${MAX_RECEIPT_BUNDLE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('is not JSON');
  }
  const bundle = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (bundle['format'] !== RECEIPT_BUNDLE_FORMAT)
    throw malformed(`is not a ${RECEIPT_BUNDLE_FORMAT}`);
  const { receipt, issuer, key, logKey, checkpoint, inclusionProof } = bundle;
  if (typeof receipt !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(receipt))
    throw malformed('holds no compact JWS receipt');
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 2048)
    throw malformed('names no issuer');
  let jwk: JWK;
  try {
    [jwk] = parseJwks({ keys: [key] }).keys as [JWK];
  } catch {
    throw malformed('holds no P-256 public key with a kid');
  }
  if (logKey !== undefined && (typeof logKey !== 'string' || logKey.length > 1024))
    throw malformed('holds a log key that is not a string');
  if (typeof checkpoint !== 'string' || checkpoint.length === 0)
    throw malformed('holds no checkpoint');
  if (
    !Array.isArray(inclusionProof) ||
    inclusionProof.length > 64 ||
    !inclusionProof.every((hash) => typeof hash === 'string' && HASH_HEX.test(hash))
  )
    throw malformed('holds no inclusion proof of at most 64 hex hashes');
  return {
    format: RECEIPT_BUNDLE_FORMAT,
    receipt,
    issuer,
    key: jwk,
    ...(logKey === undefined ? {} : { logKey }),
    checkpoint,
    inclusionProof: inclusionProof as string[],
  };
}

/** The bundle as its file holds it: JSON, two-space indented, members in a fixed order. */
export function formatReceiptBundle(bundle: Omit<ReceiptBundle, 'format'>): string {
  return `${JSON.stringify(
    {
      format: RECEIPT_BUNDLE_FORMAT,
      receipt: bundle.receipt,
      issuer: bundle.issuer,
      key: bundle.key,
      ...(bundle.logKey === undefined ? {} : { logKey: bundle.logKey }),
      checkpoint: bundle.checkpoint,
      inclusionProof: bundle.inclusionProof,
    },
    null,
    2,
  )}\n`;
}
