import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EvidenceError } from '../../src/index.js';
import { inclusionProof } from '../../src/merkle/index.js';
import {
  batchReportData,
  bindingDigest,
  commitInput,
  encodeBinding,
  hashOutput,
  isBoundBy,
  type Binding,
} from '../../src/wire/index.js';

function binding(seed: number): Binding {
  const salt = new Uint8Array(32).fill(seed);
  return {
    modelHash: new Uint8Array(32).fill(1),
    inputCommitment: commitInput(salt, new TextEncoder().encode(`prompt ${seed}`)),
    outputHash: hashOutput(new TextEncoder().encode(`output ${seed}`)),
    nonce: new Uint8Array(32).fill(seed + 100),
    enclaveKey: new Uint8Array(32).fill(7),
  };
}

describe('binding', () => {
  it('digests to the 64 bytes of report data, deterministically', () => {
    assert.equal(bindingDigest(binding(1)).byteLength, 64);
    assert.deepEqual(bindingDigest(binding(1)), bindingDigest(binding(1)));
    assert.deepEqual(encodeBinding(binding(1)).subarray(0, 4), new Uint8Array([0, 0, 0, 18]));
  });

  it('changes its digest when any one field changes', () => {
    const base = binding(1);
    const digest = bindingDigest(base);
    for (const field of [
      'modelHash',
      'inputCommitment',
      'outputHash',
      'nonce',
      'enclaveKey',
    ] as const) {
      const changed = Uint8Array.from(base[field]);
      changed[0] = (changed[0] ?? 0) ^ 1;
      assert.notDeepEqual(bindingDigest({ ...base, [field]: changed }), digest, field);
      assert.equal(isBoundBy(digest, { ...base, [field]: changed }), false, field);
    }
    assert.equal(isBoundBy(digest, base), true);
  });

  it('keeps field boundaries: moving a byte from one field to the next changes the digest', () => {
    const base = binding(1);
    const longer = {
      ...base,
      nonce: new Uint8Array([...base.nonce, 7]),
      enclaveKey: base.enclaveKey.subarray(1),
    };
    assert.notDeepEqual(bindingDigest(longer), bindingDigest(base));
  });

  it('commits to an input with a salt, so equal inputs under other salts differ', () => {
    const input = new TextEncoder().encode('yes');
    assert.notDeepEqual(commitInput(randomBytes(32), input), commitInput(randomBytes(32), input));
    assert.throws(
      () => commitInput(new Uint8Array(16), input),
      (error: unknown) => error instanceof EvidenceError && error.code === 'BINDING_INVALID',
    );
  });

  it('rejects fields of the wrong size', () => {
    assert.throws(
      () => bindingDigest({ ...binding(1), outputHash: new Uint8Array(31) }),
      (error: unknown) => error instanceof EvidenceError && error.code === 'BINDING_INVALID',
    );
    assert.throws(
      () => bindingDigest({ ...binding(1), nonce: new Uint8Array(8) }),
      (error: unknown) => error instanceof EvidenceError && error.code === 'BINDING_INVALID',
    );
  });

  it('binds every request of a batch of N through its own path, for N from 1 to 20', () => {
    for (let size = 1; size <= 20; size++) {
      const bindings = Array.from({ length: size }, (_, index) => binding(index));
      const { reportData, leaves } = batchReportData(bindings);
      for (let index = 0; index < size; index++) {
        const inclusion = { index, size, path: inclusionProof(leaves, index) };
        assert.equal(isBoundBy(reportData, bindings[index]!, inclusion), true, `${index}/${size}`);
        if (size > 1) {
          const other = (index + 1) % size;
          assert.equal(isBoundBy(reportData, bindings[other]!, inclusion), false);
          assert.equal(
            isBoundBy(reportData, bindings[index]!, { ...inclusion, size: size + 1 }),
            false,
          );
        }
      }
      // A batch quote never vouches for a binding directly, even a batch of one.
      assert.equal(isBoundBy(reportData, bindings[0]!), false);
    }
  });
});
