export { nitroKeyPolicy, type NitroKeyPolicyOptions } from './kms/key-policy-template.js';
export { sealModelWithKms } from './kms/seal-model.js';
export { parseOvmf, guidBytes, type Ovmf, type MetadataSection } from './snp/ovmf.js';
export {
  ovmfHash,
  snpLaunchDigest,
  snpLaunchDigestFromLayout,
  type SnpLaunchOptions,
} from './snp/launch-digest.js';
export { cpuSignature, vcpuTypeSignature, VCPU_TYPES } from './snp/cpu-types.js';
export type { DirectBoot } from './snp/kernel-hashes.js';
export { buildGuestImage, GUEST_APPEND, type GuestImage } from './snp/guest-image.js';
