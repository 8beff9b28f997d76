/**
 * Issues receipts: a quote and its binding opening in; a signed receipt out,
 * only when the evidence is authentic, passes policy, and vouches for exactly
 * that binding. The receipt is acknowledged only once durably in the log.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  appraiseEvidence,
  verdictReportData,
  verdictText,
  isBoundBy,
  RECEIPT_TYPE,
  receiptEntryBytes,
  receiptLeafHash,
  RequestError,
  toHex,
  type BatchInclusion,
  type Binding,
  type Policy,
  type ReceiptEntry,
  type TrustStore,
  type Verdict,
} from '@veritee/attestations';
import type { ReceiptLog } from '../log/sqlite-log.js';
import type { Signer } from '../signing/local-signer.js';

export interface PolicyRef {
  readonly id: string;
  readonly version: number;
  readonly policy: Policy;
}

export interface ReceiptServiceOptions {
  readonly log: ReceiptLog;
  readonly signer: Signer;
  readonly issuer: string;
  readonly policy: () => PolicyRef;
  readonly trust: TrustStore;
  /** Accept simulated evidence (receipts then say so). Default false. */
  readonly allowSimulated: boolean;
  readonly clock: () => Date;
}

/** Thrown when evidence is refused; carries every code. */
export class ReceiptRefused extends RequestError {
  readonly codes: readonly string[];
  constructor(code: string, message: string, codes: readonly string[]) {
    super(422, code, message);
    this.codes = codes;
  }
}

export function createReceiptService(options: ReceiptServiceOptions) {
  // Appends are serialized: the index a receipt names must be the one it gets.
  let tail: Promise<unknown> = Promise.resolve();

  const appraise = (evidence: Uint8Array): Promise<Verdict> =>
    appraiseEvidence(
      { evidence },
      {
        at: options.clock(),
        policy: options.policy().policy,
        trust: options.trust,
        allowSimulated: options.allowSimulated,
      },
    );

  return {
    appraise,

    /**
     * @throws ReceiptRefused RECEIPT_EVIDENCE_REJECTED (with every code) or RECEIPT_BINDING_MISMATCH
     */
    async issue(
      evidence: Uint8Array,
      binding: Binding,
      inclusion: BatchInclusion | undefined,
    ): Promise<{ id: string; receipt: string; index: number }> {
      const verdict = await appraise(evidence);
      if (verdict.verdict !== 'accept')
        throw new ReceiptRefused(
          'RECEIPT_EVIDENCE_REJECTED',
          'the evidence is not authentic or fails the policy',
          verdict.codes,
        );
      const reportData = verdictReportData(verdict);
      if (reportData === undefined || !isBoundBy(reportData, binding, inclusion)) {
        throw new ReceiptRefused(
          'RECEIPT_BINDING_MISMATCH',
          'the evidence does not vouch for this binding',
          ['RECEIPT_BINDING_MISMATCH'],
        );
      }
      const { id, version } = options.policy();
      const measurement =
        verdictText(verdict, verdict.format === 'sev-snp' ? 'measurement' : 'pcr0') ?? '';
      const entry: ReceiptEntry = {
        typ: RECEIPT_TYPE,
        iss: options.issuer,
        iat: Math.floor(options.clock().getTime() / 1000),
        jti: randomUUID(),
        tee: {
          format: verdict.format === 'nitro' ? 'nitro' : 'sev-snp',
          measurement,
          simulated: verdict.simulated,
        },
        model_hash: toHex(binding.modelHash),
        input_commitment: toHex(binding.inputCommitment),
        output_hash: toHex(binding.outputHash),
        nonce: toHex(binding.nonce),
        enclave_key: toHex(binding.enclaveKey),
        evidence_hash: createHash('sha256').update(evidence).digest('hex'),
        policy: { id, version },
      };
      const result = tail.then(async () => {
        const index = options.log.size();
        const receipt = await options.signer.sign(
          { ...entry, log: { index, leaf_hash: receiptLeafHash(entry) } },
          RECEIPT_TYPE,
        );
        options.log.append([{ entry: receiptEntryBytes(entry), id: entry.jti, receipt }]);
        return { id: entry.jti, receipt, index };
      });
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

export type ReceiptService = ReturnType<typeof createReceiptService>;
