/**
 * Writes mutation-corpus.json: seeded random mutations of every real vector
 * that is accepted unmodified. Run it again only to grow the corpus; the
 * regression test replays the file, not this generator.
 *   node --conditions=veritee-source --import tsx attestations/test/fuzz/make-mutation-corpus.ts
 */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { vectors } from '@veritee/mock/vectors';
import { mutationArbitrary, type Mutation } from './mutation.js';

const PER_VECTOR = 300;
const corpus: Array<{ vector: string } & Mutation> = [];
vectors
  .filter((vector) => vector.expect === 'accept')
  .forEach((vector, index) => {
    for (const mutation of fc.sample(mutationArbitrary, {
      seed: 0x5eed + index,
      numRuns: PER_VECTOR,
    }))
      corpus.push({ vector: vector.id, ...mutation });
  });
writeFileSync(
  new URL('./mutation-corpus.json', import.meta.url),
  `${JSON.stringify(corpus, null, 0).replace(/\},\{/g, '},\n{')}\n`,
);
console.log(`${corpus.length} mutations`);
