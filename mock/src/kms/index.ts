/** `@veritee/mock/kms`: a local endpoint speaking AWS KMS's JSON protocol, and its key-policy evaluator. */
export { localKmsClient, startLocalKms, type LocalKms, type LocalKmsOptions } from './local-kms.js';
export { evaluateKeyPolicy, type RecipientClaims } from './key-policy.js';
