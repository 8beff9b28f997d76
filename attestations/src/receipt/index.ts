/** `@veritee/attestations/receipt`: the verifier's signed statements and their checks. */
export * from './statement.js';
export * from './approvals.js';
export {
  RECEIPT_TYPE,
  RECEIPT_TYPE_V1,
  RECEIPT_HEADER_TYPE,
  statementTee,
  CHECKPOINT_TYPE,
  CHECKPOINT_HEADER_TYPE,
  type ReceiptClaims,
  type ReceiptEntry,
  type StatementTee,
  type CheckpointClaims,
} from './receipt.js';
export {
  POLICY_CHANGE_TYPE,
  POLICY_CHANGE_HEADER_TYPE,
  parseReferenceValue,
  type PolicyChangeClaims,
  type PolicyChangeEntry,
  type ReferenceValue,
} from './policy-change.js';
export { type KeyReleaseClaims, type KeyReleaseEntry } from './key-release-statement.js';
export * from './verify-receipt.js';
export * from './attestation-result.js';
export * from './bundle.js';
