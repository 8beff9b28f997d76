/**
 * What a quote binds (docs/formats.md, "Binding"). The 64-byte report data of a
 * per-request quote is SHA-512 over the canonical encoding of a binding; a
 * batched quote's is SHA-512 over the Merkle root (RFC 9162 hashing) of its
 * bindings' digests. Any relying party can recompute either from the opening.
 *
 * Canonical encoding: the format tag, then each field in the fixed order below,
 * every item as a 4-byte big-endian length followed by its bytes.
 */
import { createHash } from 'node:crypto';
import { EvidenceError } from '../errors.js';
import { bytesEqual } from '../bytes.js';
import { leafHash, merkleRoot, rootFromInclusionProof } from '../merkle/merkle.js';

export const BINDING_FORMAT = 'veritee.binding/v1';
export const BATCH_FORMAT = 'veritee.batch/v1';
/** Report data size in an SNP report and our Nitro user_data (ABI Table 23, REPORT_DATA). */
export const REPORT_DATA_SIZE = 64;

/** The opening of a binding: everything the quote vouches for about one request. */
export interface Binding {
  /** SHA-256 identity of the model (docs/formats.md, "Model identity"). */
  readonly modelHash: Uint8Array;
  /** SHA-256(salt || input), see {@link commitInput}. */
  readonly inputCommitment: Uint8Array;
  /** SHA-256 of the output bytes. */
  readonly outputHash: Uint8Array;
  /** The client's request nonce (16 to 64 bytes). */
  readonly nonce: Uint8Array;
  /** The enclave's public key (raw encoding) that the request was sealed to. */
  readonly enclaveKey: Uint8Array;
}

/** Where a binding sits in a batch. */
export interface BatchInclusion {
  readonly index: number;
  readonly size: number;
  readonly path: readonly Uint8Array[];
}

const SHA256_SIZE = 32;

/** Each part as a 4-byte big-endian length and its bytes: the canonical encoding of every digest here. */
export function lengthPrefixed(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + 4 + part.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.byteLength);
    out.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return out;
}

/**
 * Canonical encoding of a binding.
 * @throws EvidenceError BINDING_INVALID when a field has the wrong size
 */
export function encodeBinding(binding: Binding): Uint8Array {
  for (const [name, value] of [
    ['modelHash', binding.modelHash],
    ['inputCommitment', binding.inputCommitment],
    ['outputHash', binding.outputHash],
  ] as const) {
    if (value.byteLength !== SHA256_SIZE)
      throw new EvidenceError(
        'BINDING_INVALID',
        `${name} is ${value.byteLength} bytes; expected ${SHA256_SIZE}`,
      );
  }
  if (binding.nonce.byteLength < 16 || binding.nonce.byteLength > 64)
    throw new EvidenceError(
      'BINDING_INVALID',
      `nonce is ${binding.nonce.byteLength} bytes; expected 16 to 64`,
    );
  if (binding.enclaveKey.byteLength === 0 || binding.enclaveKey.byteLength > 1024)
    throw new EvidenceError('BINDING_INVALID', 'enclave key must be 1 to 1024 bytes');
  return lengthPrefixed([
    Buffer.from(BINDING_FORMAT),
    binding.modelHash,
    binding.inputCommitment,
    binding.outputHash,
    binding.nonce,
    binding.enclaveKey,
  ]);
}

/** SHA-512 of the canonical encoding: the report data of a per-request quote. */
export function bindingDigest(binding: Binding): Uint8Array {
  return new Uint8Array(createHash('sha512').update(encodeBinding(binding)).digest());
}

/** Report data of a batched quote: SHA-512 over the tag, the batch size and the Merkle root of the binding digests. */
export function batchDigest(root: Uint8Array, size: number): Uint8Array {
  const sizeBytes = new Uint8Array(8);
  new DataView(sizeBytes.buffer).setBigUint64(0, BigInt(size));
  return new Uint8Array(
    createHash('sha512')
      .update(lengthPrefixed([Buffer.from(BATCH_FORMAT), sizeBytes, root]))
      .digest(),
  );
}

/** The Merkle leaf of a binding in a batch: RFC 9162 leaf hash of its digest. */
export function bindingLeaf(binding: Binding): Uint8Array {
  return leafHash(bindingDigest(binding));
}

/** Report data for a batch of bindings, with each one's inclusion path. */
export function batchReportData(bindings: readonly Binding[]): {
  reportData: Uint8Array;
  root: Uint8Array;
  leaves: Uint8Array[];
} {
  const leaves = bindings.map(bindingLeaf);
  const root = merkleRoot(leaves);
  return { reportData: batchDigest(root, leaves.length), root, leaves };
}

/**
 * Whether `reportData` vouches for `binding`: directly (per-request quote) or
 * through `inclusion` in a batch. The same check serves both modes; never throws
 * for a mismatch, only for a malformed binding.
 * @throws EvidenceError BINDING_INVALID
 */
export function isBoundBy(
  reportData: Uint8Array,
  binding: Binding,
  inclusion?: BatchInclusion,
): boolean {
  if (reportData.byteLength !== REPORT_DATA_SIZE) return false;
  if (inclusion === undefined) return bytesEqual(reportData, bindingDigest(binding));
  // The path implies a root; the quote must vouch for exactly that root and size.
  const root = rootFromInclusionProof(
    bindingLeaf(binding),
    inclusion.index,
    inclusion.size,
    inclusion.path,
  );
  return root !== undefined && bytesEqual(reportData, batchDigest(root, inclusion.size));
}

/** SHA-256(salt || input) with a 32-byte salt: commits to an input without revealing it. */
export function commitInput(salt: Uint8Array, input: Uint8Array): Uint8Array {
  if (salt.byteLength !== 32)
    throw new EvidenceError('BINDING_INVALID', `salt is ${salt.byteLength} bytes; expected 32`);
  return new Uint8Array(createHash('sha256').update(salt).update(input).digest());
}

/** SHA-256 of output bytes. */
export function hashOutput(output: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(output).digest());
}

export const IDENTITY_FORMAT = 'veritee.enclave-identity/v1';

/** What an enclave's standing evidence vouches for: the model it serves and the key requests are sealed to, at a time. */
export interface EnclaveIdentity {
  readonly modelHash: Uint8Array;
  readonly enclaveKey: Uint8Array;
  /** When the evidence was produced; SNP reports carry no time of their own. */
  readonly issuedAt: Date;
}

/** Report data of standing evidence: SHA-512 over the tag, model hash, enclave key and issue time (ms, 8-byte big-endian). */
export function identityDigest(identity: EnclaveIdentity): Uint8Array {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(identity.issuedAt.getTime()));
  return new Uint8Array(
    createHash('sha512')
      .update(
        lengthPrefixed([
          Buffer.from(IDENTITY_FORMAT),
          identity.modelHash,
          identity.enclaveKey,
          time,
        ]),
      )
      .digest(),
  );
}
