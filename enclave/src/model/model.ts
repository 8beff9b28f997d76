/**
 * Loads an ONNX model with onnxruntime-node on CPU, checks its bytes and every
 * file its config names against their pinned SHA-256 (refusing to start
 * otherwise), checks the config's interface against the graph's, and runs one
 * request at a time through it: text through a tokenizer, an image through the
 * declared preprocessing, or raw tensors. Answers are encoded canonically (JSON
 * in a fixed order), so their hash is reproducible.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { bytesEqual, ConfigError, fromHex, RequestError, toHex } from '@veritee/attestations';
import { isSealedModel } from '@veritee/attestations/seal';
import { modelHash, sha256, type InferenceInput } from '@veritee/attestations/wire';
import { parseModelConfig, type InputSpec, type ModelConfig, type TensorSpec } from './config.js';
import { ctcDecode, pool } from './answers.js';
import { cacheName, generate } from './generate.js';
import { imageTensor } from './image.js';
import {
  checkShape,
  outputTensor,
  requestTensor,
  tensorJson,
  type SizeBindings,
} from './tensors.js';
import { createTokenizer, type Encoded, type TextTokenizer } from './tokenizer.js';

export interface ModelIdentity {
  /** SHA-256 of the ONNX file, hex. */
  readonly fileSha256: string;
  /** SHA-256 of the config file, hex (it pins every other file the model uses). */
  readonly configSha256: string;
  /** The model hash bindings carry (veritee.model/v1). */
  readonly modelHash: Uint8Array;
}

export interface LoadedModel {
  readonly identity: ModelIdentity;
  readonly config: ModelConfig;
  /**
   * Runs one input; the answer's canonical encoding.
   * @throws RequestError MODEL_INPUT_INVALID for an input the model's interface does not take
   */
  infer(input: InferenceInput): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface LoadModelOptions {
  readonly modelPath: string;
  /** The config; the files it names are read beside it. */
  readonly configPath: string;
  /** Expected SHA-256 of the model file, hex. Required: an unpinned model is refused. */
  readonly expectedSha256: string;
  /** onnxruntime intra-op threads. Default 1: requests run side by side instead. */
  readonly threads?: number;
  /** The weights already in memory (opened from a sealed model): `modelPath` is then not read. */
  readonly modelBytes?: Uint8Array;
}

const unreadable = (error: unknown, what: string) =>
  new ConfigError(
    'MODEL_UNREADABLE',
    `${what} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
  );

function invalidInput(message: string): never {
  throw new RequestError(400, 'MODEL_INPUT_INVALID', message);
}

/**
 * The model's SHA-256 and what onnxruntime loads. A file is hashed as a stream
 * and loaded through the same open descriptor, so a model of hundreds of
 * megabytes is never held twice and a file renamed over it meanwhile is not
 * what loads.
 */
async function openModel(
  options: LoadModelOptions,
): Promise<{ hash: Uint8Array; source: Uint8Array | string; close: () => Promise<void> }> {
  if (options.modelBytes !== undefined)
    return { hash: sha256(options.modelBytes), source: options.modelBytes, close: async () => {} };
  let handle;
  try {
    handle = await open(options.modelPath, 'r');
    const head = new Uint8Array(64);
    const { bytesRead } = await handle.read(head, 0, head.byteLength, 0);
    if (isSealedModel(head.subarray(0, bytesRead)))
      throw new ConfigError(
        'MODEL_SEALED',
        'the model file is sealed (veritee.sealed-model/v1): its key must be released first (VERITEE_MODEL_KEY_RELEASE)',
      );
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ start: 0, autoClose: false }))
      hash.update(chunk as Buffer);
    const opened = handle;
    return {
      hash: new Uint8Array(hash.digest()),
      // Linux (every TEE guest): the very file hashed. Elsewhere (a developer's
      // machine) the path, which a rename in between could swap.
      source: existsSync('/proc/self/fd') ? `/proc/self/fd/${opened.fd}` : options.modelPath,
      close: () => opened.close(),
    };
  } catch (error) {
    await handle?.close();
    if (error instanceof ConfigError) throw error;
    throw unreadable(error, 'model file');
  }
}

/** Each file the config names, read beside it and checked against its pin. */
async function readPinnedFiles(
  config: ModelConfig,
  configPath: string,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const [file, pinned] of Object.entries(config.files)) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dirname(configPath), file));
    } catch (error) {
      throw unreadable(error, `model file ${file}`);
    }
    const actual = toHex(sha256(bytes));
    if (actual !== pinned)
      throw new ConfigError(
        'MODEL_HASH_MISMATCH',
        `model file ${file} has SHA-256 ${actual}; the config pins ${pinned}`,
      );
    files.set(file, bytes);
  }
  return files;
}

/** The graph must have what the config declares, with the declared element types. */
function checkInterface(session: ort.InferenceSession, config: ModelConfig): void {
  const check = (
    specs: readonly TensorSpec[],
    names: readonly string[],
    metadata: readonly ort.InferenceSession.ValueMetadata[],
    kind: 'input' | 'output',
  ) => {
    for (const spec of specs) {
      const index = names.indexOf(spec.name);
      if (index < 0)
        throw new ConfigError(
          'MODEL_CONFIG_INVALID',
          `model config field ${kind}s names ${JSON.stringify(spec.name)}, which the model lacks`,
        );
      const meta = metadata[index];
      if (meta?.isTensor === true && meta.type !== spec.dtype)
        throw new ConfigError(
          'MODEL_CONFIG_INVALID',
          `model config says ${kind} ${spec.name} is ${spec.dtype}; the model has ${meta.type}`,
        );
    }
  };
  check(config.inputs, session.inputNames, session.inputMetadata, 'input');
  check(config.outputs, session.outputNames, session.outputMetadata, 'output');
  const generation = config.generation;
  if (generation === undefined) return;
  for (let layer = 0; layer < generation.layers; layer++)
    for (const kind of ['key', 'value'] as const) {
      const past = cacheName(generation.past, layer, kind);
      const present = cacheName(generation.present, layer, kind);
      if (!session.inputNames.includes(past))
        throw new ConfigError('MODEL_CONFIG_INVALID', `the model lacks input ${past}`);
      if (!session.outputNames.includes(present))
        throw new ConfigError('MODEL_CONFIG_INVALID', `the model lacks output ${present}`);
    }
}

/** A token-derived input tensor, in the declared integer type. */
function tokenTensor(spec: InputSpec, values: readonly number[]): ort.Tensor {
  const dims = [1, values.length];
  if (spec.dtype === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  if (spec.dtype === 'int64')
    return new ort.Tensor(
      'int64',
      BigInt64Array.from(values, (value) => BigInt(value)),
      dims,
    );
  throw new ConfigError(
    'MODEL_CONFIG_INVALID',
    `input ${spec.name} fed from text must be int64 or int32`,
  );
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * @throws ConfigError MODEL_UNREADABLE, MODEL_SEALED, MODEL_HASH_MISMATCH, MODEL_CONFIG_INVALID, MODEL_INVALID
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const expected = fromHex(options.expectedSha256);
  if (expected === undefined || expected.byteLength !== 32)
    throw new ConfigError('MODEL_HASH_MISMATCH', 'expected model SHA-256 must be 64 hex digits');
  let configBytes: Uint8Array;
  try {
    configBytes = await readFile(options.configPath);
  } catch (error) {
    throw unreadable(error, 'model config file');
  }
  let configJson: unknown;
  try {
    configJson = JSON.parse(Buffer.from(configBytes).toString('utf8'));
  } catch {
    throw new ConfigError('MODEL_CONFIG_INVALID', 'model config is not JSON');
  }
  const config = parseModelConfig(configJson);
  const files = await readPinnedFiles(config, options.configPath);

  const model = await openModel(options);
  let session: ort.InferenceSession;
  try {
    if (!bytesEqual(model.hash, expected))
      throw new ConfigError(
        'MODEL_HASH_MISMATCH',
        `model file SHA-256 is ${toHex(model.hash)}; expected ${options.expectedSha256.toLowerCase()}`,
      );
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
    };
    try {
      session =
        typeof model.source === 'string'
          ? await ort.InferenceSession.create(model.source, sessionOptions)
          : await ort.InferenceSession.create(model.source, sessionOptions);
    } catch (error) {
      throw new ConfigError('MODEL_INVALID', 'onnxruntime cannot load the model', { cause: error });
    }
  } finally {
    await model.close();
  }
  checkInterface(session, config);

  const tokenizer: TextTokenizer | undefined =
    config.tokenizer === undefined ? undefined : createTokenizer(config.tokenizer, files);
  const charset =
    config.ctc === undefined
      ? []
      : [
          '',
          ...Buffer.from(files.get(config.ctc.dictionary) ?? new Uint8Array())
            .toString('utf8')
            .split('\n')
            .filter((line, index, lines) => index < lines.length - 1 || line !== '')
            .map((line) => line.replace(/\r$/, '')),
          ...(config.ctc.space ? [' '] : []),
        ];
  const sources = new Set(config.inputs.map((input) => input.source));
  const takesText = config.inputs.some(
    (input) => input.source !== 'request' && input.source !== 'image',
  );

  /** The feeds for one input, from whichever part of it the model's inputs take. */
  function feedsFor(input: InferenceInput): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    const sizes: SizeBindings = new Map();
    let encoded: Encoded | undefined;
    if (takesText) {
      if (!('text' in input)) invalidInput('this model takes text');
      if (input.maxTokens !== undefined || input.stop !== undefined)
        invalidInput('maxTokens and stop apply to text generation only');
      encoded = (tokenizer as TextTokenizer).encode(input.text);
    } else if (sources.has('image') && !('image' in input))
      invalidInput('this model takes an image');
    else if (sources.has('request') && !('tensors' in input))
      invalidInput(
        `this model takes tensors: ${config.inputs.map((spec) => spec.name).join(', ')}`,
      );
    if ('tensors' in input)
      for (const name of Object.keys(input.tensors))
        if (!config.inputs.some((spec) => spec.name === name && spec.source === 'request'))
          invalidInput(`the model takes no tensor named ${JSON.stringify(name)}`);
    for (const spec of config.inputs) {
      switch (spec.source) {
        case 'request':
          feeds[spec.name] = requestTensor(
            spec,
            'tensors' in input ? input.tensors[spec.name] : undefined,
            sizes,
          );
          break;
        case 'tokens': {
          const tokens = encoded?.tokens ?? [];
          feeds[spec.name] = new ort.Tensor('string', tokens.length === 0 ? [''] : [...tokens], [
            1,
            Math.max(1, tokens.length),
          ]);
          break;
        }
        case 'input_ids':
          feeds[spec.name] = tokenTensor(spec, encoded?.ids ?? []);
          break;
        case 'attention_mask':
          feeds[spec.name] = tokenTensor(spec, encoded?.attentionMask ?? []);
          break;
        case 'token_type_ids':
          feeds[spec.name] = tokenTensor(
            spec,
            encoded?.tokenTypeIds.length ? encoded.tokenTypeIds : (encoded?.ids ?? []).map(() => 0),
          );
          break;
        case 'position_ids':
          feeds[spec.name] = tokenTensor(
            spec,
            (encoded?.ids ?? []).map((_, index) => index),
          );
          break;
        case 'image': {
          if (!('image' in input)) return invalidInput('this model takes an image');
          const image = imageTensor(Buffer.from(input.image, 'base64'), config.image!);
          checkShape(spec, image.dims, sizes);
          feeds[spec.name] = new ort.Tensor('float32', image.data, [...image.dims]);
          break;
        }
      }
    }
    return feeds;
  }

  async function run(feeds: Record<string, ort.Tensor>) {
    try {
      return await session.run(feeds);
    } catch {
      // onnxruntime's message may quote values; the answer names the failure only.
      throw new RequestError(400, 'MODEL_INPUT_INVALID', 'the model cannot run on this input');
    }
  }

  async function infer(input: InferenceInput): Promise<Uint8Array> {
    switch (config.task) {
      case 'generate': {
        if (!('text' in input) && !('messages' in input))
          invalidInput('this model generates text from text or chat messages');
        const text = tokenizer as TextTokenizer;
        const promptIds =
          'messages' in input
            ? text.encode(text.chat(input.messages), { addSpecialTokens: false }).ids
            : text.encode(input.text).ids;
        const spec = config.generation!;
        const generated = await generate({
          run,
          spec,
          inputs: config.inputs,
          promptIds,
          maxNewTokens: Math.min(input.maxTokens ?? spec.maxNewTokens, spec.maxNewTokens),
          stop: input.stop ?? [],
          decode: (ids) => text.decode(ids),
        });
        return encodeJson({
          text: generated.text,
          finishReason: generated.finishReason,
          tokens: generated.tokens,
        });
      }
      case 'ocr': {
        const results = await run(feedsFor(input));
        return encodeJson(ctcDecode(outputTensor(results, config.ctc!.output), charset));
      }
      case 'embedding': {
        const feeds = feedsFor(input);
        const results = await run(feeds);
        const mask = config.inputs.find((spec) => spec.source === 'attention_mask');
        return encodeJson({
          embedding: pool(
            outputTensor(results, config.embedding!.output),
            config.embedding!,
            mask === undefined ? undefined : feeds[mask.name],
          ),
        });
      }
      case 'tensors': {
        const results = await run(feedsFor(input));
        const answer: Record<string, unknown> = {};
        for (const spec of config.outputs)
          answer[spec.name] = tensorJson(outputTensor(results, spec.name));
        return encodeJson(answer);
      }
      case 'scores': {
        const results = await run(feedsFor(input));
        const answer: Record<string, number[]> = {};
        for (const spec of config.outputs)
          answer[spec.name] = Array.from(outputTensor(results, spec.name).data as Float32Array);
        return encodeJson(answer);
      }
    }
  }

  return {
    identity: {
      fileSha256: toHex(model.hash),
      configSha256: toHex(sha256(configBytes)),
      modelHash: modelHash(model.hash, sha256(configBytes)),
    },
    config,
    infer,
    close: () => session.release(),
  };
}
