/**
 * `@veritee/attestations/wire`: the formats that cross the untrusted host:
 * bindings, model identities, enclave evidence and answers, host answers.
 */
export * from './binding.js';
export * from './model.js';
export * from './answer.js';
export * from './media-types.js';
export * from './inference-input.js';
