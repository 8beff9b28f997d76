import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../src/index.js';
import {
  consistencyProofFrom,
  inclusionProof,
  inclusionProofFrom,
  subtreeHashFrom,
  verifyConsistency,
  leafHash,
  merkleRoot,
  rootFromInclusionProof,
  verifyInclusion,
} from '../src/merkle/index.js';

const leaves = (n: number) =>
  Array.from({ length: n }, (_, index) => leafHash(new TextEncoder().encode(`leaf ${index}`)));

describe('merkle (RFC 9162)', () => {
  it('reproduces the RFC 6962 reference tree of eight leaves', () => {
    // The test tree of the certificate-transparency reference implementations.
    const data = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((hex) => Buffer.from(hex, 'hex'));
    assert.equal(
      toHex(merkleRoot(data.map((item) => leafHash(item)))),
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
    assert.equal(
      toHex(merkleRoot([])),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('proves every leaf of every tree size from 1 to 130', () => {
    for (let size = 1; size <= 130; size++) {
      const tree = leaves(size);
      const root = merkleRoot(tree);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(tree, index);
        assert.ok(
          verifyInclusion(tree[index]!, index, size, proof, root),
          `size ${size} index ${index}`,
        );
      }
    }
  });

  it('rejects a proof for another index, tree shape, leaf or root, or with a hash changed, added or dropped', () => {
    const tree = leaves(13);
    const root = merkleRoot(tree);
    const proof = inclusionProof(tree, 6);
    assert.equal(verifyInclusion(tree[6]!, 7, 13, proof, root), false);
    // Sizes of the same shape give the same root: the signed size is what binds it (a tree head, a batch digest).
    assert.equal(verifyInclusion(tree[6]!, 6, 7, proof, root), false);
    assert.equal(verifyInclusion(tree[6]!, 6, 40, proof, root), false);
    assert.equal(verifyInclusion(tree[5]!, 6, 13, proof, root), false);
    assert.equal(verifyInclusion(tree[6]!, 6, 13, proof, tree[0]!), false);
    const flipped = proof.map((hash, index) =>
      index === 1 ? Uint8Array.from(hash, (byte, at) => (at === 0 ? byte ^ 1 : byte)) : hash,
    );
    assert.equal(verifyInclusion(tree[6]!, 6, 13, flipped, root), false);
    assert.equal(verifyInclusion(tree[6]!, 6, 13, [...proof, root], root), false);
    assert.equal(verifyInclusion(tree[6]!, 6, 13, proof.slice(1), root), false);
    assert.equal(verifyInclusion(tree[6]!, -1, 13, proof, root), false);
    assert.equal(
      rootFromInclusionProof(tree[6]!, 6, 13, [new Uint8Array(31), ...proof.slice(1)]),
      undefined,
    );
  });
});

describe('consistency proofs (RFC 9162, section 2.1.4)', () => {
  const treeOf = (n: number) => {
    const hashes = leaves(n);
    const subtree = (start: number, end: number) => merkleRoot(hashes.slice(start, end));
    return { hashes, subtree };
  };

  it('prove every earlier size of every tree size from 1 to 70', () => {
    for (let n = 1; n <= 70; n++) {
      const { hashes, subtree } = treeOf(n);
      const root = merkleRoot(hashes);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProofFrom(subtree, m, n);
        assert.ok(
          verifyConsistency(m, n, proof, merkleRoot(hashes.slice(0, m)), root),
          `${m} -> ${n}`,
        );
      }
    }
  });

  it('reject a proof against another first root, second root, size, or with a hash changed or dropped', () => {
    const { hashes, subtree } = treeOf(21);
    const proof = consistencyProofFrom(subtree, 6, 21);
    const first = merkleRoot(hashes.slice(0, 6));
    const second = merkleRoot(hashes);
    assert.equal(verifyConsistency(6, 21, proof, merkleRoot(hashes.slice(0, 5)), second), false);
    assert.equal(verifyConsistency(6, 21, proof, first, merkleRoot(hashes.slice(0, 20))), false);
    assert.equal(verifyConsistency(7, 21, proof, first, second), false);
    assert.equal(verifyConsistency(6, 21, proof.slice(1), first, second), false);
    const flipped = proof.map((hash, index) =>
      index === 0 ? Uint8Array.from(hash, (byte, at) => (at === 3 ? byte ^ 1 : byte)) : hash,
    );
    assert.equal(verifyConsistency(6, 21, flipped, first, second), false);
    assert.equal(verifyConsistency(0, 21, proof, first, second), false);
  });

  it('computes the same inclusion paths and subtree hashes from stored perfect nodes', () => {
    const { hashes } = treeOf(45);
    const perfect = (level: number, index: number) =>
      merkleRoot(hashes.slice(index << level, (index + 1) << level));
    const subtree = (start: number, end: number) => subtreeHashFrom(perfect, start, end);
    for (let size = 1; size <= 45; size++) {
      assert.deepEqual(subtree(0, size), merkleRoot(hashes.slice(0, size)));
      for (let index = 0; index < size; index += 3)
        assert.deepEqual(
          inclusionProofFrom(subtree, index, size),
          inclusionProof(hashes.slice(0, size), index),
        );
    }
  });
});
