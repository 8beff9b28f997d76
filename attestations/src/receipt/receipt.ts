/**
 * Receipt claims (`veritee.receipt/v1`) and signed tree heads
 * (`veritee.checkpoint/v1`): the formats the verifier signs (JWS, ES256) and
 * relying parties check, online or offline. A receipt's log entry is the
 * canonical JSON of its claims without `log`, so anyone holding the receipt can
 * recompute the leaf and check its inclusion against a checkpoint.
 */

import { measurementHex, type Claims } from '../evidence/appraise.js';

/** Receipts the verifier issues: their log entry is RFC 8785 canonical JSON. */
export const RECEIPT_TYPE = 'veritee.receipt/v2';
/** Receipts of earlier versions, whose log entry is JSON in a fixed key order; they keep verifying. */
export const RECEIPT_TYPE_V1 = 'veritee.receipt/v1';
/** A v2 receipt's JWS header `typ`: application/veritee-receipt+jwt, as RFC 8725 (section 3.11) advises. */
export const RECEIPT_HEADER_TYPE = 'veritee-receipt+jwt';
export const CHECKPOINT_TYPE = 'veritee.checkpoint/v1';
/** The JWS checkpoint's header `typ`; ones signed before it carry the tag itself. */
export const CHECKPOINT_HEADER_TYPE = 'veritee-checkpoint+jwt';

/** The TEE a statement vouches for, from the appraisal's claims. */
export interface StatementTee {
  readonly format: 'sev-snp' | 'nitro';
  /** SEV-SNP MEASUREMENT or Nitro PCR0, hex. */
  readonly measurement: string;
  readonly simulated: boolean;
}

/** The `tee` of a statement about accepted evidence. */
export function statementTee(claims: Claims): StatementTee {
  return {
    format: claims.format,
    measurement: measurementHex(claims),
    simulated: claims.simulated,
  };
}

export interface ReceiptClaims {
  readonly typ: typeof RECEIPT_TYPE | typeof RECEIPT_TYPE_V1;
  readonly iss: string;
  /** Issue time, seconds since the epoch. */
  readonly iat: number;
  /** Receipt id. */
  readonly jti: string;
  readonly tee: StatementTee;
  readonly model_hash: string;
  readonly input_commitment: string;
  readonly output_hash: string;
  readonly nonce: string;
  readonly enclave_key: string;
  /** SHA-256 of the evidence bytes, hex. */
  readonly evidence_hash: string;
  readonly policy: { readonly id: string; readonly version: number };
  readonly log: { readonly index: number; readonly leaf_hash: string };
}

export type ReceiptEntry = Omit<ReceiptClaims, 'log'>;

/** The keys that open a receipt's or a key release's entry, in this order. */
export function orderedHead(claims: {
  readonly typ: string;
  readonly iss: string;
  readonly iat: number;
  readonly jti: string;
  readonly tee: StatementTee;
}): object {
  return {
    typ: claims.typ,
    iss: claims.iss,
    iat: claims.iat,
    jti: claims.jti,
    tee: {
      format: claims.tee.format,
      measurement: claims.tee.measurement,
      simulated: claims.tee.simulated,
    },
  };
}

/** A receipt's entry as logged: its claims without `log`, keys in this order. */
export function orderedReceipt(claims: ReceiptEntry): object {
  return {
    ...orderedHead(claims),
    model_hash: claims.model_hash,
    input_commitment: claims.input_commitment,
    output_hash: claims.output_hash,
    nonce: claims.nonce,
    enclave_key: claims.enclave_key,
    evidence_hash: claims.evidence_hash,
    policy: { id: claims.policy.id, version: claims.policy.version },
  };
}

/** A signed tree head's claims. */
export interface CheckpointClaims {
  readonly typ: typeof CHECKPOINT_TYPE;
  readonly iss: string;
  readonly iat: number;
  readonly size: number;
  /** MTH of the first `size` entries, hex. */
  readonly root: string;
}
