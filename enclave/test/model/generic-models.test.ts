import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { ConfigError, RequestError } from '@veritee/attestations';
import { GENERIC_MODELS } from '../../src/model/bundled.js';
import { parseModelConfig } from '../../src/model/config.js';
import { generate } from '../../src/model/generate.js';
import { loadModel, type LoadedModel } from '../../src/model/model.js';
import { createTokenizer } from '../../src/model/tokenizer.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const load = (model: { path: string; configPath: string; sha256: string }) =>
  loadModel({ modelPath: model.path, configPath: model.configPath, expectedSha256: model.sha256 });
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
const inputInvalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof RequestError &&
  error.code === 'MODEL_INPUT_INVALID' &&
  error.status === 400 &&
  pattern.test(error.message);

/** A base64 tensor of int64 values. */
const int64Tensor = (values: number[], shape: number[]) => ({
  dtype: 'int64' as const,
  shape,
  data: Buffer.from(BigInt64Array.from(values, BigInt).buffer).toString('base64'),
});

describe('the OCR model (PaddleOCR PP-OCRv4 recogniser, real weights)', () => {
  let ocr: LoadedModel;
  before(async () => {
    ocr = await load(GENERIC_MODELS.ocr);
  });
  after(() => ocr.close());

  it('reads a rendered line of text to the expected text', async () => {
    // ocr-line.png: "Invoice 4711 paid in full" in DejaVu Sans, see render-text-line.py.
    const image = (await readFile(join(fixtures, 'ocr-line.png'))).toString('base64');
    const answer = decode(await ocr.infer({ image })) as { text: string; confidence: number };
    assert.equal(answer.text.trim(), 'Invoice 4711 paid in full');
    assert.ok(answer.confidence > 0.9, `confidence ${answer.confidence}`);
  });

  it('refuses what is not a PNG, an image past its pixel bound, and text', async () => {
    await assert.rejects(
      ocr.infer({ image: Buffer.from('GIF89a not a png at all').toString('base64') }),
      inputInvalid(/not a PNG/),
    );
    // A PNG header claiming 100000 x 100000 pixels: refused before any decoding.
    const header = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header);
    header.writeUInt32BE(13, 8);
    header.write('IHDR', 12, 'latin1');
    header.writeUInt32BE(100_000, 16);
    header.writeUInt32BE(100_000, 20);
    await assert.rejects(ocr.infer({ image: header.toString('base64') }), inputInvalid(/pixels/));
    await assert.rejects(ocr.infer({ text: 'hello' }), inputInvalid(/takes an image/));
  });
});

describe('the WordPiece tokenizer (@huggingface/tokenizers, from tokenizer.json)', () => {
  it('gives the token ids an independent Python reference computes', async () => {
    const directory = dirname(GENERIC_MODELS.embedding.configPath);
    const tokenizer = createTokenizer(
      { kind: 'huggingface', file: 'tokenizer.json', maxTokens: 512 },
      new Map([['tokenizer.json', await readFile(join(directory, 'tokenizer.json'))]]),
    );
    const sentences = [
      'Hello world!',
      'The quick brown fox jumped over the lazy dogs.',
      'Running, walked; kindness: quickly?',
      'Héllo WORLD — naïve café',
      'Private prompts in a secure enclave (2026) cost $4.50',
      '生活的真谛 and zzxq',
      '  tabs\tand\nnewlines  ',
      '',
    ];
    const reference = spawnSync(
      'python3',
      [join(fixtures, 'wordpiece_reference.py'), join(directory, 'vocab.txt')],
      { input: JSON.stringify(sentences), encoding: 'utf8' },
    );
    assert.equal(reference.status, 0, reference.stderr);
    const expected = JSON.parse(reference.stdout) as number[][];
    sentences.forEach((sentence, index) =>
      assert.deepEqual(tokenizer.encode(sentence).ids, expected[index], sentence),
    );
    // Word pieces really occur, so the comparison covers the ## continuation path.
    assert.ok(
      expected[2]!.length > 'Running, walked; kindness: quickly?'.split(' ').length + 4,
      'words split into pieces',
    );
  });

  it('embeds text as one unit vector, the same text always alike', async () => {
    const embedding = await load(GENERIC_MODELS.embedding);
    try {
      const vector = (text: string) =>
        embedding
          .infer({ text })
          .then((bytes) => (decode(bytes) as { embedding: number[] }).embedding);
      const [first, again, other] = await Promise.all([
        vector('private prompts'),
        vector('private prompts'),
        vector('a lazy dog'),
      ]);
      assert.equal(first.length, 32);
      assert.ok(Math.abs(Math.hypot(...first) - 1) < 1e-6);
      assert.deepEqual(first, again);
      assert.notDeepEqual(first, other);
    } finally {
      await embedding.close();
    }
  });
});

describe('the decoder with a KV cache', () => {
  it('generates the same tokens with the cache as without it', async () => {
    const model = GENERIC_MODELS.decoder;
    const directory = dirname(model.configPath);
    const config = parseModelConfig(JSON.parse(await readFile(model.configPath, 'utf8')));
    const tokenizer = createTokenizer(
      config.tokenizer!,
      new Map(
        await Promise.all(
          Object.keys(config.files).map(
            async (file) => [file, await readFile(join(directory, file))] as const,
          ),
        ),
      ),
    );
    const session = await ort.InferenceSession.create(model.path);
    try {
      for (const prompt of ['the weather in the north', 'once upon a time', 'a']) {
        const promptIds = tokenizer.encode(prompt).ids;
        const common = {
          run: (feeds: Record<string, ort.Tensor>) => session.run(feeds),
          spec: config.generation!,
          inputs: config.inputs,
          promptIds,
          maxNewTokens: 24,
          stop: [],
          decode: (ids: readonly number[]) => tokenizer.decode(ids),
        };
        const cached = await generate(common);
        const uncached = await generate({ ...common, cache: false });
        assert.ok(cached.tokens.length >= 4, `${prompt}: ${cached.tokens.length} tokens generated`);
        assert.deepEqual(cached.tokens, uncached.tokens, prompt);
        assert.equal(cached.text, uncached.text);
      }
    } finally {
      await session.release();
    }
  });

  it('answers text and chat messages greedily, within maxTokens and stop strings', async () => {
    const decoder = await load(GENERIC_MODELS.decoder);
    try {
      const run = (input: Parameters<LoadedModel['infer']>[0]) =>
        decoder
          .infer(input)
          .then(
            (bytes) => decode(bytes) as { text: string; finishReason: string; tokens: number[] },
          );
      const first = await run({ text: 'the weather in the north', maxTokens: 10 });
      const again = await run({ text: 'the weather in the north', maxTokens: 10 });
      assert.deepEqual(first, again, 'greedy decoding is reproducible');
      assert.ok(first.tokens.length <= 10);
      if (first.tokens.length === 10) assert.equal(first.finishReason, 'length');
      // A stop string taken from the text itself cuts it there.
      const longer = await run({ text: 'the weather in the north', maxTokens: 24 });
      const stop = longer.text.slice(3, 5);
      const stopped = await run({ text: 'the weather in the north', maxTokens: 24, stop: [stop] });
      assert.equal(stopped.finishReason, 'stop');
      assert.equal(stopped.text, longer.text.slice(0, longer.text.indexOf(stop)));
      const chat = await run({ messages: [{ role: 'user', content: 'hi there' }], maxTokens: 5 });
      assert.ok(chat.tokens.length > 0 && chat.tokens.length <= 5);
      await assert.rejects(run({ image: 'AAAA' }), inputInvalid(/from text or chat messages/));
    } finally {
      await decoder.close();
    }
  });
});

describe('raw tensors against the declared interface', () => {
  let dir: string;
  let model: LoadedModel;
  before(async () => {
    // The embedding graph, fed raw tensors instead of text.
    dir = await mkdtemp(join(tmpdir(), 'veritee-tensors-'));
    await copyFile(GENERIC_MODELS.embedding.path, join(dir, 'model.onnx'));
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        format: 'veritee.model-config/v2',
        task: 'tensors',
        inputs: [
          { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'], source: 'request' },
          {
            name: 'attention_mask',
            dtype: 'int64',
            shape: ['batch', 'sequence'],
            source: 'request',
          },
        ],
        outputs: [
          { name: 'last_hidden_state', dtype: 'float32', shape: ['batch', 'sequence', 32] },
        ],
      }),
    );
    model = await loadModel({
      modelPath: join(dir, 'model.onnx'),
      configPath: join(dir, 'config.json'),
      expectedSha256: GENERIC_MODELS.embedding.sha256,
    });
  });
  after(async () => {
    await model.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs tensors that match and answers tensors', async () => {
    const answer = decode(
      await model.infer({
        tensors: {
          input_ids: int64Tensor([2, 40, 41, 3], [1, 4]),
          attention_mask: int64Tensor([1, 1, 1, 1], [1, 4]),
        },
      }),
    ) as Record<string, { dtype: string; shape: number[]; data: string }>;
    const output = answer['last_hidden_state']!;
    assert.equal(output.dtype, 'float32');
    assert.deepEqual(output.shape, [1, 4, 32]);
    assert.equal(Buffer.from(output.data, 'base64').byteLength, 4 * 32 * 4);
  });

  it('refuses each mismatch with a clear MODEL_INPUT_INVALID', async () => {
    const mask = int64Tensor([1, 1], [1, 2]);
    const cases: [string, Parameters<LoadedModel['infer']>[0], RegExp][] = [
      [
        'wrong dtype',
        {
          tensors: {
            input_ids: { dtype: 'int32', shape: [1, 2], data: Buffer.alloc(8).toString('base64') },
            attention_mask: mask,
          },
        },
        /input_ids is int32; the model takes int64/,
      ],
      [
        'wrong rank',
        { tensors: { input_ids: int64Tensor([1, 2], [2]), attention_mask: mask } },
        /input_ids has rank 1; the model takes rank 2/,
      ],
      [
        'a named size that disagrees',
        { tensors: { input_ids: int64Tensor([1, 2, 3], [1, 3]), attention_mask: mask } },
        /sequence\) is 2, but sequence is 3 elsewhere/,
      ],
      [
        'data that does not fill the shape',
        {
          tensors: {
            input_ids: { ...int64Tensor([1, 2], [1, 2]), shape: [1, 3] },
            attention_mask: int64Tensor([1, 1, 1], [1, 3]),
          },
        },
        /16 bytes of data; shape \[1, 3\] needs 24/,
      ],
      [
        'a missing tensor',
        { tensors: { input_ids: int64Tensor([1, 2], [1, 2]) } },
        /lacks tensor attention_mask/,
      ],
      [
        'an unknown tensor',
        {
          tensors: {
            input_ids: int64Tensor([1, 2], [1, 2]),
            attention_mask: mask,
            extra: int64Tensor([1], [1]),
          },
        },
        /no tensor named "extra"/,
      ],
      ['text for a tensor model', { text: 'hello' }, /takes tensors: input_ids, attention_mask/],
    ];
    for (const [label, input, message] of cases)
      await assert.rejects(model.infer(input), inputInvalid(message), label);
  });
});

describe('model config v2 at load', () => {
  it('refuses a pinned file whose bytes changed, and a dtype the graph does not have', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-config-'));
    try {
      const source = dirname(GENERIC_MODELS.embedding.configPath);
      const config = JSON.parse(await readFile(GENERIC_MODELS.embedding.configPath, 'utf8')) as {
        inputs: { dtype: string }[];
      };
      const tokenizer = await readFile(join(source, 'tokenizer.json'), 'utf8');
      await writeFile(join(dir, 'tokenizer.json'), tokenizer.replace('"hello"', '"hullo"'));
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
      const options = {
        modelPath: GENERIC_MODELS.embedding.path,
        configPath: join(dir, 'config.json'),
        expectedSha256: GENERIC_MODELS.embedding.sha256,
      };
      await assert.rejects(
        loadModel(options),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'MODEL_HASH_MISMATCH' &&
          error.message.includes('tokenizer.json'),
      );
      await writeFile(join(dir, 'tokenizer.json'), tokenizer);
      config.inputs[0]!.dtype = 'int32';
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
      await assert.rejects(
        loadModel(options),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'MODEL_CONFIG_INVALID' &&
          /input_ids is int32; the model has int64/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses configs that could reach outside their directory or miss what a task needs', () => {
    const base = {
      format: 'veritee.model-config/v2',
      task: 'scores',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1], source: 'request' }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    };
    const invalid = (config: unknown, field: RegExp) =>
      assert.throws(
        () => parseModelConfig(config),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'MODEL_CONFIG_INVALID' &&
          field.test(error.message),
      );
    assert.equal(parseModelConfig(base).task, 'scores');
    invalid({ ...base, files: { '../secret': 'a'.repeat(64) } }, /not a plain file name/);
    invalid({ ...base, task: 'ocr' }, /field ctc/);
    invalid({ ...base, task: 'generate' }, /field generation/);
    invalid(
      { ...base, inputs: [{ name: 'ids', dtype: 'int64', shape: [1], source: 'input_ids' }] },
      /field tokenizer is required/,
    );
    invalid({ ...base, task: 'translate' }, /field task/);
  });
});
