import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { EvidenceError } from '../../src/index.js';
import {
  committedInput,
  generateEnclaveKeyPair,
  openInferenceRequest,
  sealInferenceRequest,
} from '../../src/seal/index.js';
import {
  INPUT_LIMITS,
  inputCommitmentBytes,
  parseInferenceInput,
  type InferenceInput,
} from '../../src/wire/index.js';

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof EvidenceError &&
  error.code === 'OHTTP_REQUEST_INVALID' &&
  pattern.test(error.message);

describe('inference inputs', () => {
  it('commits to the RFC 8785 form, as Python serialises sorted compact JSON', () => {
    const inputs: InferenceInput[] = [
      { text: 'naïve café — 生活', stop: ['\n\n', 'END'], maxTokens: 12 },
      {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi "there"' },
        ],
      },
      { image: Buffer.from('not really a png').toString('base64') },
      { tensors: { ids: { shape: [1, 2], dtype: 'int64', data: 'AQAAAAAAAAACAAAAAAAAAA==' } } },
    ];
    // Integers and strings only: for these, sorted keys, no whitespace and UTF-8 are all of JCS.
    const python = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys\nfor line in sys.stdin:\n  sys.stdout.write(json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\\n")',
      ],
      { input: inputs.map((input) => JSON.stringify(input)).join('\n') + '\n', encoding: 'utf8' },
    );
    assert.equal(python.status, 0, python.stderr);
    const expected = python.stdout.trimEnd().split('\n');
    inputs.forEach((input, index) =>
      assert.equal(new TextDecoder().decode(inputCommitmentBytes(input)), expected[index]),
    );
  });

  it('travels sealed and opens to the same input and commitment; a prompt keeps its UTF-8 commitment', () => {
    const keyPair = generateEnclaveKeyPair();
    const nonces = { salt: randomBytes(32), nonce: randomBytes(32) };
    const input: InferenceInput = { text: 'write a haiku', maxTokens: 20, stop: ['\n'] };
    const { request } = openInferenceRequest(
      keyPair,
      sealInferenceRequest(keyPair.publicKey, { input, ...nonces }).encapsulated,
    );
    assert.ok('input' in request);
    assert.deepEqual(request.input, input);
    assert.deepEqual([...request.salt], [...nonces.salt]);
    assert.deepEqual(committedInput(request), inputCommitmentBytes(input));
    assert.deepEqual(
      committedInput({ prompt: 'write a haiku', ...nonces }),
      new TextEncoder().encode('write a haiku'),
    );
  });

  it('refuses inputs out of shape or bounds, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [null, /must be an object/],
      [{}, /text, messages, image or tensors/],
      [{ text: 'a', temperature: 2 }, /unknown field "temperature"/],
      [{ text: 'a', maxTokens: 0 }, /maxTokens/],
      [{ text: 'a', maxTokens: INPUT_LIMITS.maxTokens + 1 }, /maxTokens/],
      [{ text: 'a', stop: ['1', '2', '3', '4', '5'] }, /stop/],
      [{ text: 'a', stop: [''] }, /stop/],
      [{ messages: [] }, /messages/],
      [{ messages: [{ role: 'root', content: 'x' }] }, /role/],
      [{ image: 'not base64!' }, /image must be base64/],
      [{ tensors: {} }, /1 to 16 tensors/],
      [{ tensors: { x: { dtype: 'float64', shape: [1], data: '' } } }, /dtype/],
      [{ tensors: { x: { dtype: 'float32', shape: [-1], data: '' } } }, /shape/],
      [{ tensors: { x: { dtype: 'float32', shape: new Array(9).fill(1), data: '' } } }, /shape/],
    ];
    for (const [value, pattern] of cases)
      assert.throws(() => parseInferenceInput(value), refused(pattern), JSON.stringify(value));
  });
});
