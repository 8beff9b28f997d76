export {
  localKmsClient,
  startLocalKms,
  type LocalKms,
  type LocalKmsOptions,
} from './kms/local-kms.js';
export { evaluateKeyPolicy, type RecipientClaims } from './kms/key-policy.js';
export { nitroKeyPolicy, type NitroKeyPolicyOptions } from './kms/key-policy-template.js';
export { sealModelWithKms } from './kms/seal-model.js';
