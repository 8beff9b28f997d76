/** `@veritee/attestations/receipt`: the verifier's signed statements and their checks. */
export * from './receipt.js';
export * from './verify-receipt.js';
export * from './policy-change.js';
export * from './attestation-result.js';
