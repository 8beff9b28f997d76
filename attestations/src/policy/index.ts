/** `@veritee/attestations/policy`: appraisal policy, its evaluation and reference values. */
export * from './policy.js';
export {
  evaluatePolicy,
  SNP_GUEST_POLICY,
  MAX_CLOCK_SKEW_MS,
  type Violation,
  type VerifiedEvidence,
} from './evaluate.js';
export { applyReferenceValues, type ReferenceSet } from './reference-values.js';
