import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { randomBinding } from '@veritee/mock';
import { EvidenceError } from '../../src/index.js';
import {
  enclaveAnswerToJson,
  hostAnswerToJson,
  parseHostAnswer,
  type AttachedReceipt,
} from '../../src/wire/index.js';

const answer = enclaveAnswerToJson({
  sealed: randomBytes(40),
  evidence: randomBytes(1184),
  binding: randomBinding(),
});
const hash = () => randomBytes(32).toString('hex');
const receipt = (inclusion: unknown): AttachedReceipt =>
  ({ id: 'r1', jws: 'a.b.c', logIndex: 5, inclusion }) as AttachedReceipt;

describe('host answers with a receipt and its inclusion', () => {
  it('carries the checkpoint note and path through', () => {
    const inclusion = { size: 9, path: [hash(), hash()], note: 'origin\n9\nroot\n\n— sig\n' };
    const parsed = parseHostAnswer(hostAnswerToJson({ answer, receipt: receipt(inclusion) }));
    assert.deepEqual(parsed.receipt?.inclusion, inclusion);
    assert.equal(
      parseHostAnswer(hostAnswerToJson({ answer, receipt: receipt(undefined) })).receipt?.inclusion,
      undefined,
    );
  });

  it('refuses an inclusion that cannot cover the receipt or is out of bounds, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ size: 5, path: [], note: 'n' }, /inclusion\.size/],
      [{ size: 9, path: Array.from({ length: 65 }, hash), note: 'n' }, /inclusion\.path/],
      [{ size: 9, path: ['XYZ'], note: 'n' }, /inclusion\.path/],
      [{ size: 9, path: [], note: '' }, /inclusion\.note/],
      [{ size: 9, path: [], note: 'n'.repeat(20_000) }, /inclusion\.note/],
      ['not an object', /inclusion/],
    ];
    for (const [inclusion, field] of cases)
      assert.throws(
        () => parseHostAnswer(hostAnswerToJson({ answer, receipt: receipt(inclusion) })),
        (error: unknown) =>
          error instanceof EvidenceError &&
          error.code === 'ANSWER_MALFORMED' &&
          field.test(error.message),
        JSON.stringify(inclusion).slice(0, 80),
      );
  });
});
