/** `@veritee/attestations/snp`: the AMD SEV-SNP report, certificate table, endorsements and chain. */
export * from './report.js';
export * from './product.js';
export * from './cert-table.js';
export {
  parseEndorsement,
  parseEndorsementClaims,
  AMD_OID,
  type EndorsementClaims,
} from './endorsement.js';
export {
  verifySnp,
  type SnpEvidence,
  type SnpVerifyOptions,
  type RevocationStatus,
} from './verify.js';
