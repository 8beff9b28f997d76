/** `@veritee/attestations/seal`: private inference over Oblivious HTTP, sealed models, key release. */
export * from './sealed-model.js';
export * from './key-release.js';
export { createEnvelopedData, openEnvelopedData } from './cms.js';
export * from './ohttp.js';
export { HPKE_AEAD, hpkeKeyPairFromPrivate, type HpkeAead } from './hpke.js';
export * from './bhttp.js';
export * from './oblivious-inference.js';
