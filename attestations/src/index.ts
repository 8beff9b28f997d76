export {
  VeriteeError,
  EvidenceError,
  ChainError,
  ConfigError,
  RequestError,
  UpstreamError,
  isVeriteeError,
} from './errors.js';
export { toHex, fromHex, bytesEqual } from './bytes.js';
export type { Verified } from './verified.js';
export {
  parseCertificate,
  parseCertificateBundle,
  parseCrl,
  type Certificate,
  type Crl,
} from './x509.js';
export {
  defaultTrustStore,
  mergeTrustStores,
  createSnpAnchor,
  createNitroAnchor,
  type TrustStore,
  type SnpAnchor,
  type NitroAnchor,
} from './trust.js';
export { AMD_ROOTS } from './roots/amd.js';
export { AWS_NITRO_ROOT_G1 } from './roots/aws-nitro.js';
export * from './snp/report.js';
export * from './snp/product.js';
export * from './snp/cert-table.js';
export { parseEndorsementClaims, AMD_OID, type EndorsementClaims } from './snp/endorsement.js';
export {
  verifySnp,
  type SnpEvidence,
  type SnpVerifyOptions,
  type RevocationStatus,
} from './snp/verify.js';
export * from './nitro/document.js';
export { verifyNitro, type NitroEvidence, type NitroVerifyOptions } from './nitro/verify.js';
export * from './policy/policy.js';
export {
  evaluatePolicy,
  SNP_GUEST_POLICY,
  MAX_CLOCK_SKEW_MS,
  type Violation,
  type VerifiedEvidence,
} from './policy/evaluate.js';
export * from './appraise.js';
export * from './merkle.js';
export * from './binding/binding.js';
export * from './binding/model.js';
export * from './seal/sealed.js';
export { decodeCbor, encodeCbor } from './cbor.js';
export * from './binding/answer.js';
export * from './receipt/receipt.js';
export * from './receipt/verify-receipt.js';
export {
  mergeSettings,
  loadSettings,
  integerSetting,
  httpUrlSetting,
  CONFIG_FILE_VARIABLE,
} from './settings.js';
export * from './result/attestation-result.js';
export { createEnvelopedData, openEnvelopedData } from './seal/cms.js';
export * from './receipt/policy-change.js';
export { type ReferenceSet } from './policy/reference-values.js';
export * from './seal/sealed-model.js';
export * from './seal/key-release.js';
