/** `@veritee/attestations/merkle`: RFC 9162 Merkle tree hashing, inclusion and consistency proofs. */
export * from './merkle.js';
