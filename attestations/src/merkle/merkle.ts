/**
 * Merkle trees with RFC 9162 hashing (Certificate Transparency v2, section
 * 2.1): leaf hash SHA-256(0x00 || data), node hash SHA-256(0x01 || left ||
 * right), the split at the largest power of two below the size. Used for
 * batched quotes and for the receipt log.
 */
import { createHash } from 'node:crypto';
import { bytesEqual } from '../bytes.js';

export const MERKLE_HASH_SIZE = 32;

/** SHA-256(0x00 || data) (RFC 9162, section 2.1.1). */
export function leafHash(data: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(new Uint8Array([0]))
      .update(data)
      .digest(),
  );
}

/** SHA-256(0x01 || left || right) (RFC 9162, section 2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(new Uint8Array([1]))
      .update(left)
      .update(right)
      .digest(),
  );
}

// The largest power of two strictly less than n (n > 1).
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes (RFC 9162, section 2.1.1); the empty tree hashes to SHA-256(""). */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return new Uint8Array(createHash('sha256').digest());
  if (leafHashes.length === 1) return leafHashes[0] as Uint8Array;
  const k = split(leafHashes.length);
  return nodeHash(merkleRoot(leafHashes.slice(0, k)), merkleRoot(leafHashes.slice(k)));
}

/** PATH(m, D[n]): the inclusion proof of leaf `index` (RFC 9162, section 2.1.3.1). */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length)
    throw new RangeError('leaf index outside the tree');
  if (leafHashes.length === 1) return [];
  const k = split(leafHashes.length);
  return index < k
    ? [...inclusionProof(leafHashes.slice(0, k), index), merkleRoot(leafHashes.slice(k))]
    : [...inclusionProof(leafHashes.slice(k), index - k), merkleRoot(leafHashes.slice(0, k))];
}

/**
 * The root an inclusion proof implies for `leaf` at `index` in a tree of `size`
 * (RFC 9162, section 2.1.3.2), or undefined when the proof cannot be one.
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    return undefined;
  if (proof.some((hash) => hash.byteLength !== MERKLE_HASH_SIZE)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** Verifies an inclusion proof against `root`; false for any inconsistency, never throws. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(leaf, index, size, proof);
  return computed !== undefined && bytesEqual(computed, root);
}

/**
 * PROOF(m, D[n]): the consistency proof between the tree of the first `m`
 * leaves and the tree of all of them (RFC 9162, section 2.1.4.1). `subtree`
 * returns MTH of leaves [start, end), so a store can answer from cached nodes.
 */
export function consistencyProofFrom(
  subtree: (start: number, end: number) => Uint8Array,
  m: number,
  n: number,
): Uint8Array[] {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 1 || m > n)
    throw new RangeError('need 1 <= m <= n');
  const proof: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b)
  const subproof = (mm: number, start: number, end: number, complete: boolean): void => {
    const size = end - start;
    if (mm === size) {
      if (!complete) proof.push(subtree(start, end));
      return;
    }
    const k = split(size);
    if (mm <= k) {
      subproof(mm, start, start + k, complete);
      proof.push(subtree(start + k, end));
    } else {
      subproof(mm - k, start + k, end, false);
      proof.push(subtree(start, start + k));
    }
  };
  subproof(m, 0, n, true);
  return proof;
}

/** PATH(m, D[n]) with subtree hashes from `subtree` (see {@link consistencyProofFrom}). */
export function inclusionProofFrom(
  subtree: (start: number, end: number) => Uint8Array,
  index: number,
  size: number,
): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError('leaf index outside the tree');
  const path: Uint8Array[] = [];
  const walk = (mm: number, start: number, end: number): void => {
    if (end - start === 1) return;
    const k = split(end - start);
    if (mm < k) {
      walk(mm, start, start + k);
      path.push(subtree(start + k, end));
    } else {
      walk(mm - k, start + k, end);
      path.push(subtree(start, start + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/**
 * MTH(D[start:end]) by the RFC 9162 recursion, where `perfect(level, index)`
 * answers the aligned perfect subtree of 2^level leaves at that index (level 0: leaf hashes).
 */
export function subtreeHashFrom(
  perfect: (level: number, index: number) => Uint8Array,
  start: number,
  end: number,
): Uint8Array {
  const size = end - start;
  if (size === 0) return merkleRoot([]);
  // An aligned power-of-two range is one stored node.
  if ((size & (size - 1)) === 0 && start % size === 0)
    return perfect(Math.log2(size), start / size);
  const k = split(size);
  return nodeHash(
    subtreeHashFrom(perfect, start, start + k),
    subtreeHashFrom(perfect, start + k, end),
  );
}

/**
 * Verifies a consistency proof (RFC 9162, section 2.1.4.2); false for any
 * inconsistency, never throws.
 */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second)
    return false;
  if (proof.some((hash) => hash.byteLength !== MERKLE_HASH_SIZE)) return false;
  if (first === second) return proof.length === 0 && bytesEqual(firstRoot, secondRoot);
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, firstRoot) && bytesEqual(sr, secondRoot);
}
