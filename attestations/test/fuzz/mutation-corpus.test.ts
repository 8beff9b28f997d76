/**
 * The recorded mutation corpus of the real vectors (see make-mutation-corpus.ts),
 * replayed: a mutated quote is refused with a typed code, or, if it still
 * verifies, it is the same quote (the same evidence hash). Nothing whose
 * signed bytes changed is ever accepted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bytesEqual, toHex } from '../../src/index.js';
import { appraise } from '../../src/evidence/index.js';
import { vectorById, vectorFile, REAL_SNP_POLICY } from '@veritee/mock/vectors';
import { applyMutation, type Mutation } from './mutation.js';

const corpus = JSON.parse(
  readFileSync(new URL('./mutation-corpus.json', import.meta.url), 'utf8'),
) as Array<{ vector: string } & Mutation>;

describe('the mutation corpus of the real vectors', () => {
  for (const id of new Set(corpus.map((entry) => entry.vector))) {
    const cases = corpus.filter((entry) => entry.vector === id);
    it(`refuses every changed quote among ${cases.length} mutations of ${id}`, async () => {
      const vector = vectorById(id);
      const evidence = vectorFile(vector.evidence);
      const endorsement =
        vector.endorsement === undefined ? undefined : vectorFile(vector.endorsement);
      const options = {
        at: new Date(vector.verify_at),
        policy: { ...REAL_SNP_POLICY, allowDebug: true },
      };
      const original = await appraise({ evidence, endorsement, product: vector.product }, options);
      assert.equal(original.verdict, 'accept', original.codes.join());
      const wrong: string[] = [];
      let refused = 0;
      for (const [index, mutation] of cases.entries()) {
        const mutated = applyMutation(evidence, mutation);
        const verdict = await appraise(
          { evidence: mutated, endorsement, product: vector.product },
          options,
        );
        if (verdict.verdict === 'reject') {
          refused++;
          if (verdict.codes.includes('INTERNAL_ERROR')) wrong.push(`${index}: INTERNAL_ERROR`);
        } else if (!bytesEqual(verdict.claims.evidenceHash, original.claims.evidenceHash)) {
          wrong.push(`${index}: accepted as ${toHex(verdict.claims.evidenceHash)}`);
        } else if (!bytesEqual(mutated, evidence)) {
          // Only the unsigned padding may change and still verify as the same quote.
          assert.ok(mutated.byteLength > evidence.byteLength || vector.format === 'nitro');
        }
      }
      assert.deepEqual(wrong, []);
      assert.ok(refused >= cases.length - 2, `${refused} of ${cases.length} refused`);
    });
  }
});
