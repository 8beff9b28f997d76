/**
 * The witness's decision on any body a stranger sends: it never throws, never
 * cosigns what the log did not sign consistently, and answers only with the
 * statuses c2sp.org/tlog-witness gives.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { leafHash, merkleRoot, consistencyProofFrom } from '@veritee/attestations/merkle';
import {
  formatCheckpoint,
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  openNote,
  signNote,
} from '@veritee/attestations/tlog';
import { addCheckpoint, type WitnessedTree } from '../src/witness/add-checkpoint.js';

const log = noteSignerFromSeed('log.test/log', NOTE_SIGNATURE_ED25519, new Uint8Array(32).fill(1));
const key = noteSignerFromSeed(
  'witness.test/w',
  NOTE_SIGNATURE_COSIGNATURE_V1,
  new Uint8Array(32).fill(2),
);
const leaves = Array.from({ length: 20 }, (_, i) => leafHash(new Uint8Array([i])));
const rootOf = (size: number) => merkleRoot(leaves.slice(0, size));
const checkpoint = (size: number) =>
  signNote(formatCheckpoint({ origin: log.name, size, rootHash: rootOf(size), extensions: [] }), [
    log,
  ]);
const proof = (from: number, to: number) =>
  consistencyProofFrom((start, end) => merkleRoot(leaves.slice(start, end)), from, to)
    .map((hash) => `${Buffer.from(hash).toString('base64')}\n`)
    .join('');

function decide(body: string, last: WitnessedTree | undefined) {
  return addCheckpoint({
    body,
    logs: new Map([[log.name, [log]]]),
    lastCosigned: () => last,
    key,
    now: new Date('2026-11-29T12:00:00Z'),
  });
}

describe('addCheckpoint', () => {
  it('cosigns a consistent checkpoint with a cosignature/v1 line that verifies', () => {
    const answer = decide(`old 5\n${proof(5, 12)}\n${checkpoint(12)}`, {
      size: 5,
      rootHash: rootOf(5),
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.record?.tree.size, 12);
    const text = checkpoint(12).slice(0, checkpoint(12).indexOf('\n\n') + 1);
    const opened = openNote(`${text}\n${answer.body}`, [key]);
    assert.equal(opened.signatures[0]?.timestamp, Date.parse('2026-11-29T12:00:00Z') / 1000);
  });

  it('answers any body with a specified status, and cosigns only consistent, signed growth', () => {
    const valid = `old 5\n${proof(5, 12)}\n${checkpoint(12)}`;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc
            .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 3 }))
            .map(([at, junk]) => valid.slice(0, at) + junk + valid.slice(at + 1)),
        ),
        (body) => {
          const answer = decide(body, { size: 5, rootHash: rootOf(5) });
          assert.ok([200, 400, 403, 404, 409, 422].includes(answer.status), String(answer.status));
          if (answer.status === 200) {
            // Only the one consistent tree this body can name.
            assert.equal(answer.record?.tree.size, 12);
            assert.deepEqual(answer.record?.tree.rootHash, rootOf(12));
          }
          return true;
        },
      ),
      { seed: 0x5eed, numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });
});
