/**
 * `@veritee/attestations`: what every part shares, errors and byte helpers.
 * Each concern has its own entry point, so a workspace's imports say what it
 * touches (docs/architecture.md):
 *
 * - `/evidence` appraise evidence: Accepted | Rejected, trust stores, roots
 * - `/snp`, `/nitro` the hardware formats and their verification
 * - `/policy` appraisal policy and reference values
 * - `/wire` what crosses the host: bindings, enclave evidence and answers
 * - `/seal` HPKE-sealed requests, sealed models, key release, CMS
 * - `/merkle` RFC 9162 tree hashing and proofs
 * - `/receipt` signed log statements, receipts, checkpoints, results
 * - `/config` settings from the environment and config files
 * - `/sim` the simulated hardware and its dev PKI
 */
export {
  VeriteeError,
  EvidenceError,
  ChainError,
  ConfigError,
  RequestError,
  UpstreamError,
  isVeriteeError,
} from './errors.js';
export { toHex, fromHex, fromBase64, bytesEqual } from './bytes.js';
