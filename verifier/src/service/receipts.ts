/**
 * Issues receipts: a quote and its binding opening in; a signed receipt out,
 * only when the evidence is authentic, passes policy, and vouches for exactly
 * that binding. The receipt is acknowledged only once durably in the log.
 */
import { createHash, randomUUID } from 'node:crypto';
import { RequestError, toHex } from '@veritee/attestations';
import { measurementHex, type Appraisal, type Claims } from '@veritee/attestations/evidence';
import { type Policy } from '@veritee/attestations/policy';
import { RECEIPT_TYPE, type ReceiptEntry } from '@veritee/attestations/receipt';
import { isBoundBy, type BatchInclusion, type Binding } from '@veritee/attestations/wire';
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

export function createReceiptService(options: ReceiptServiceOptions) {
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
    ): Promise<{ id: string; receipt: string; index: number }> {
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
        jti: randomUUID(),
        tee: {
          format: claims.format,
          measurement: measurementHex(claims),
          simulated: claims.simulated,
        },
        model_hash: toHex(binding.modelHash),
        input_commitment: toHex(binding.inputCommitment),
        output_hash: toHex(binding.outputHash),
        nonce: toHex(binding.nonce),
        enclave_key: toHex(binding.enclaveKey),
        evidence_hash: createHash('sha256').update(evidence).digest('hex'),
        policy: { id, version },
      };
      const { index, statement } = await options.statements.append(entry);
      return { id: entry.jti, receipt: statement, index };
    },
  };
}

export type ReceiptService = ReturnType<typeof createReceiptService>;
