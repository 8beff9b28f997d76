/** `@veritee/attestations/nitro`: the AWS Nitro attestation document, its CBOR and its chain. */
export * from './document.js';
export { verifyNitro, type NitroEvidence, type NitroVerifyOptions } from './verify.js';
export { decodeCbor, encodeCbor } from '../cbor.js';
