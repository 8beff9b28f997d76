/**
 * Random input only ever yields a typed rejection: never a crash, never an
 * untyped error, never an accept. Seeded, so a failure reproduces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVeriteeError } from '../src/index.js';
import { appraise } from '../src/evidence/index.js';
import { parsePolicy } from '../src/policy/index.js';
import { parseSnpCertTable } from '../src/snp/index.js';

function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

describe('random input', () => {
  const random = generator(0x5eed);
  const bytes = (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256));

  it('gives a typed rejection for 600 random evidence buffers of every shape', async () => {
    const firstBytes = [0x84, 0xd2, 0x02, 0x03, 0x05, undefined];
    for (let round = 0; round < 600; round++) {
      const length = [0, 1, 1184, 1184 + 24, Math.floor(random() * 6000)][round % 5] ?? 0;
      const evidence = bytes(length);
      const first = firstBytes[round % firstBytes.length];
      if (first !== undefined && length > 0) evidence[0] = first;
      const verdict = await appraise(
        { evidence },
        { at: new Date(), policy: { allowDebug: true, allowUncheckedRevocation: true } },
      );
      assert.equal(verdict.verdict, 'reject');
      assert.notEqual(
        verdict.codes[0],
        'INTERNAL_ERROR',
        `round ${round}: ${verdict.error?.message ?? ''}`,
      );
    }
  });

  it('gives typed errors for random certificate tables and policies', () => {
    for (let round = 0; round < 300; round++) {
      const table = bytes(Math.floor(random() * 400));
      try {
        parseSnpCertTable(table);
      } catch (error) {
        assert.ok(isVeriteeError(error));
      }
    }
    for (const value of [
      null,
      1,
      'x',
      [],
      { snp: [] },
      { nitro: { pcrs: {} } },
      { snp: { vmpls: [0.5] } },
    ]) {
      assert.throws(
        () => parsePolicy(value),
        (error: unknown) => isVeriteeError(error) && error.code === 'POLICY_INVALID',
      );
    }
  });
});
