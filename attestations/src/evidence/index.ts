/** `@veritee/attestations/evidence`: evidence in, Accepted | Rejected out, against pinned roots. */
export {
  appraise,
  detectFormat,
  snpFields,
  nitroFields,
  measurementHex,
  claimedMeasurement,
  type Appraisal,
  type Accepted,
  type Rejected,
  type Claims,
  type AppraiseOptions,
  type CollateralSource,
  type EvidenceFormat,
  type EvidenceInput,
  type FieldValue,
} from './appraise.js';
export {
  defaultTrustStore,
  mergeTrustStores,
  createSnpAnchor,
  createNitroAnchor,
  type TrustStore,
  type SnpAnchor,
  type NitroAnchor,
} from './trust.js';
export type { Verified } from './verified.js';
export { createAppraisalMemo, type AppraisalMemo } from './appraisal-memo.js';
export { canonicalEvidenceHash } from './evidence-hash.js';
export { parseCertificate, parseCrl, type Certificate, type Crl } from '../x509.js';
export { AMD_ROOTS } from '../roots/amd.js';
export { AWS_NITRO_ROOT_G1 } from '../roots/aws-nitro.js';
export { chainSignatures, evidenceSignatures, linkKeyPrefix } from '../signature-memo.js';
export type { Memo } from '../memo.js';
