/**
 * Issues receipts: a quote and its binding opening in; a signed receipt out,
 * only when the evidence is authentic, passes policy, and vouches for exactly
 * that binding. The receipt is acknowledged only once durably in the log.
 */
import { createHash } from 'node:crypto';
import { RequestError, toHex } from '@veritee/attestations';
import { type Appraisal, type Claims } from '@veritee/attestations/evidence';
import { type Policy } from '@veritee/attestations/policy';
import {
  peekJwsClaims,
  RECEIPT_TYPE,
  statementTee,
  type ReceiptEntry,
} from '@veritee/attestations/receipt';
import {
  bindingDigest,
  isBoundBy,
  type BatchInclusion,
  type Binding,
} from '@veritee/attestations/wire';
import type { StatementLog } from '../log/statements.js';
import type { Appraiser } from './appraiser.js';

export interface PolicyRef {
  readonly id: string;
  readonly version: number;
  readonly policy: Policy;
}

export interface ReceiptServiceOptions {
  /** Where receipts are signed into the log. */
  readonly statements: StatementLog;
  /** Where receipts already issued are found again (a repeated request gets the same one). */
  readonly receiptById: (id: string) => Promise<string | undefined>;
  readonly issuer: string;
  readonly policy: () => PolicyRef;
  /**
   * Whether reference values allow vouching for this model under this measurement
   * (SNP) or PCR0 (Nitro). Default: any model.
   */
  readonly allowsModel?: (claims: Claims, modelHash: Uint8Array) => boolean;
  /** Where evidence is appraised: inline or in a worker pool. */
  readonly appraiser: Appraiser;
  readonly clock: () => Date;
}

/** Thrown when evidence is refused; carries every code. */
export class ReceiptRefused extends RequestError {
  constructor(code: string, message: string, codes: readonly string[]) {
    super(422, code, message, { codes });
  }
}

/**
 * The id of the one receipt a quote and binding get: derived from the
 * canonical evidence hash and the binding, shaped as a UUID (RFC 9562,
 * version 8), so the same request, replayed by anyone, finds the receipt
 * already issued instead of growing the log.
 */
export function receiptIdOf(evidenceHash: Uint8Array, binding: Binding): string {
  const digest = createHash('sha256')
    .update('veritee.receipt-id/v1')
    .update(evidenceHash)
    .update(bindingDigest(binding))
    .digest();
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x80;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Issued = { id: string; receipt: string; index: number };

/** Where a stored receipt sits in the log, from its own claims. */
function issuedFrom(id: string, receipt: string): Issued {
  const { log } = peekJwsClaims(receipt) as { log?: { index?: number } };
  return { id, receipt, index: log?.index ?? -1 };
}

export function createReceiptService(options: ReceiptServiceOptions) {
  // Requests being issued now, by receipt id: a concurrent duplicate waits for the first.
  const issuing = new Map<string, Promise<Issued>>();
  const appraise = (evidence: Uint8Array): Promise<Appraisal> =>
    options.appraiser.appraise(evidence, options.clock(), options.policy().policy);

  return {
    appraise,

    /**
     * @throws ReceiptRefused RECEIPT_EVIDENCE_REJECTED (with every code) or RECEIPT_BINDING_MISMATCH
     */
    async issue(
      evidence: Uint8Array,
      binding: Binding,
      inclusion: BatchInclusion | undefined,
    ): Promise<Issued> {
      const verdict = await appraise(evidence);
      if (verdict.verdict !== 'accept')
        throw new ReceiptRefused(
          'RECEIPT_EVIDENCE_REJECTED',
          'the evidence is not authentic or fails the policy',
          verdict.codes,
        );
      const { claims } = verdict;
      const { reportData } = claims;
      if (reportData === undefined || !isBoundBy(reportData, binding, inclusion)) {
        throw new ReceiptRefused(
          'RECEIPT_BINDING_MISMATCH',
          'the evidence does not vouch for this binding',
          ['RECEIPT_BINDING_MISMATCH'],
        );
      }
      const { id, version } = options.policy();
      if (options.allowsModel?.(claims, binding.modelHash) === false)
        throw new ReceiptRefused(
          'RECEIPT_MODEL_NOT_REGISTERED',
          'no reference value ties this model to this measurement',
          ['RECEIPT_MODEL_NOT_REGISTERED'],
        );
      const entry: ReceiptEntry = {
        typ: RECEIPT_TYPE,
        iss: options.issuer,
        iat: Math.floor(options.clock().getTime() / 1000),
        jti: receiptIdOf(claims.evidenceHash, binding),
        tee: statementTee(claims),
        model_hash: toHex(binding.modelHash),
        input_commitment: toHex(binding.inputCommitment),
        output_hash: toHex(binding.outputHash),
        nonce: toHex(binding.nonce),
        enclave_key: toHex(binding.enclaveKey),
        evidence_hash: toHex(claims.evidenceHash),
        policy: { id, version },
      };
      const receiptId = entry.jti;
      const pending = issuing.get(receiptId);
      if (pending !== undefined) return pending;
      const issued = (async (): Promise<Issued> => {
        const stored = await options.receiptById(receiptId);
        if (stored !== undefined) return issuedFrom(receiptId, stored);
        const { index, statement } = await options.statements.append(entry);
        return { id: receiptId, receipt: statement, index };
      })().finally(() => issuing.delete(receiptId));
      issuing.set(receiptId, issued);
      return issued;
    },
  };
}

export type ReceiptService = ReturnType<typeof createReceiptService>;
