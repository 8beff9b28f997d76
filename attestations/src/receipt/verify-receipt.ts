/**
 * Offline receipt verification for relying parties (the one jose adapter of
 * attestations/): the receipt's signature against the verifier's JWKS, its
 * claims' shape, its log leaf recomputed from the claims, the checkpoint's
 * signature, and the leaf's inclusion in the checkpoint's tree. No I/O: the
 * caller brings the JWKS, checkpoint and proof (from files or the verifier).
 */
import { compactVerify, createLocalJWKSet, decodeJwt, type JSONWebKeySet } from 'jose';
import { ChainError, EvidenceError } from '../errors.js';
import { fromHex } from '../bytes.js';
import { verifyInclusion } from '../merkle/merkle.js';
import {
  CHECKPOINT_TYPE,
  RECEIPT_TYPE,
  type CheckpointClaims,
  type ReceiptClaims,
} from './receipt.js';
import { statementLeafHash } from './statement.js';

export interface ReceiptCheck {
  readonly claims: ReceiptClaims;
  readonly checkpoint: CheckpointClaims;
}

async function verifyJws(
  jws: string,
  jwks: JSONWebKeySet,
  typ: string,
  what: string,
): Promise<unknown> {
  let result: Awaited<ReturnType<typeof compactVerify>>;
  try {
    result = await compactVerify(jws.trim(), createLocalJWKSet(jwks), { algorithms: ['ES256'] });
  } catch (error) {
    throw new ChainError(
      'RECEIPT_BAD_SIGNATURE',
      `the ${what}'s signature does not verify with the given JWKS`,
      { cause: error },
    );
  }
  if (result.protectedHeader.typ !== typ)
    throw new EvidenceError('RECEIPT_MALFORMED', `the ${what} is not a ${typ}`);
  try {
    return JSON.parse(new TextDecoder().decode(result.payload));
  } catch {
    throw new EvidenceError('RECEIPT_MALFORMED', `the ${what}'s payload is not JSON`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function receiptClaims(value: unknown): ReceiptClaims {
  const claims = value as ReceiptClaims;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    claims.typ === RECEIPT_TYPE &&
    typeof claims.iss === 'string' &&
    Number.isSafeInteger(claims.iat) &&
    typeof claims.jti === 'string' &&
    typeof claims.tee === 'object' &&
    (claims.tee.format === 'sev-snp' || claims.tee.format === 'nitro') &&
    typeof claims.tee.simulated === 'boolean' &&
    [claims.model_hash, claims.input_commitment, claims.output_hash, claims.evidence_hash].every(
      (hash) => typeof hash === 'string' && HEX64.test(hash),
    ) &&
    typeof claims.log === 'object' &&
    Number.isSafeInteger(claims.log.index) &&
    claims.log.index >= 0 &&
    typeof claims.log.leaf_hash === 'string';
  if (!ok)
    throw new EvidenceError(
      'RECEIPT_MALFORMED',
      'the receipt lacks a claim or has one of the wrong type',
    );
  return claims;
}

/**
 * @throws ChainError RECEIPT_BAD_SIGNATURE, RECEIPT_NOT_IN_LOG
 * @throws EvidenceError RECEIPT_MALFORMED
 */
export async function verifyReceipt(input: {
  receipt: string;
  jwks: JSONWebKeySet;
  checkpoint: string;
  inclusionPath: readonly string[];
}): Promise<ReceiptCheck> {
  const claims = receiptClaims(await verifyJws(input.receipt, input.jwks, RECEIPT_TYPE, 'receipt'));
  const { log, ...entry } = claims;
  const leaf = statementLeafHash(entry);
  if (leaf !== log.leaf_hash)
    throw new ChainError(
      'RECEIPT_NOT_IN_LOG',
      'the receipt names a log leaf other than its own claims',
    );
  const checkpoint = (await verifyJws(
    input.checkpoint,
    input.jwks,
    CHECKPOINT_TYPE,
    'checkpoint',
  )) as CheckpointClaims;
  if (
    !Number.isSafeInteger(checkpoint.size) ||
    typeof checkpoint.root !== 'string' ||
    !HEX64.test(checkpoint.root)
  )
    throw new EvidenceError('RECEIPT_MALFORMED', 'the checkpoint lacks its size or root');
  const path = input.inclusionPath.map((hash) => fromHex(hash) ?? new Uint8Array(0));
  if (
    !verifyInclusion(
      fromHex(leaf) ?? new Uint8Array(0),
      log.index,
      checkpoint.size,
      path,
      fromHex(checkpoint.root) ?? new Uint8Array(0),
    )
  ) {
    throw new ChainError(
      'RECEIPT_NOT_IN_LOG',
      `the receipt is not at index ${log.index} of the checkpoint's tree of ${checkpoint.size}`,
    );
  }
  return { claims, checkpoint };
}

/**
 * The claims of a JWS without verifying it: only to learn where to fetch what
 * verification needs (issuer, log index, checkpoint size). Never trust them.
 * @throws EvidenceError RECEIPT_MALFORMED
 */
export function peekJwsClaims(jws: string): Record<string, unknown> {
  try {
    return decodeJwt(jws.trim());
  } catch (error) {
    throw new EvidenceError('RECEIPT_MALFORMED', 'not a compact JWS', { cause: error });
  }
}
