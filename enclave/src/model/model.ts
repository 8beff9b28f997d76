/**
 * Loads an ONNX model with onnxruntime-node on CPU, checks its bytes against
 * the SHA-256 the operator configured (refusing to start otherwise), and runs
 * batches of texts through it. Outputs are encoded canonically (JSON with the
 * configured outputs in order), so their hash is reproducible.
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { bytesEqual, ConfigError, fromHex, toHex } from '@veritee/attestations';
import { isSealedModel } from '@veritee/attestations/seal';
import { modelHash, sha256 } from '@veritee/attestations/wire';
import { parseModelConfig, type ModelConfig } from './config.js';

export interface ModelIdentity {
  /** SHA-256 of the ONNX file, hex. */
  readonly fileSha256: string;
  /** SHA-256 of the config file, hex. */
  readonly configSha256: string;
  /** The model hash bindings carry (veritee.model/v1). */
  readonly modelHash: Uint8Array;
}

export interface LoadedModel {
  readonly identity: ModelIdentity;
  readonly config: ModelConfig;
  /** Runs every text in one batch; one canonical output encoding per text, in order. */
  run(texts: readonly string[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

export interface LoadModelOptions {
  readonly modelPath: string;
  readonly configPath: string;
  /** Expected SHA-256 of the model file, hex. Required: an unpinned model is refused. */
  readonly expectedSha256: string;
  /** onnxruntime intra-op threads. Default 1: requests run side by side instead. */
  readonly threads?: number;
  /** The weights already in memory (opened from a sealed model): `modelPath` is then not read. */
  readonly modelBytes?: Uint8Array;
}

/**
 * @throws ConfigError MODEL_UNREADABLE, MODEL_SEALED, MODEL_HASH_MISMATCH, MODEL_CONFIG_INVALID, MODEL_INVALID
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const expected = fromHex(options.expectedSha256);
  if (expected === undefined || expected.byteLength !== 32)
    throw new ConfigError('MODEL_HASH_MISMATCH', 'expected model SHA-256 must be 64 hex digits');
  let bytes: Uint8Array;
  let configBytes: Uint8Array;
  try {
    [bytes, configBytes] = await Promise.all([
      options.modelBytes ?? readFile(options.modelPath),
      readFile(options.configPath),
    ]);
  } catch (error) {
    throw new ConfigError(
      'MODEL_UNREADABLE',
      `model or config file cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (isSealedModel(bytes))
    throw new ConfigError(
      'MODEL_SEALED',
      'the model file is sealed (veritee.sealed-model/v1): its key must be released first (VERITEE_MODEL_KEY_RELEASE)',
    );
  const fileHash = sha256(bytes);
  if (!bytesEqual(fileHash, expected)) {
    throw new ConfigError(
      'MODEL_HASH_MISMATCH',
      `model file SHA-256 is ${toHex(fileHash)}; expected ${options.expectedSha256.toLowerCase()}`,
    );
  }
  let configJson: unknown;
  try {
    configJson = JSON.parse(Buffer.from(configBytes).toString('utf8'));
  } catch {
    throw new ConfigError('MODEL_CONFIG_INVALID', 'model config is not JSON');
  }
  const config = parseModelConfig(configJson);
  const configHash = sha256(configBytes);
  let session: ort.InferenceSession;
  try {
    const threads = options.threads ?? 1;
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
  } catch (error) {
    throw new ConfigError('MODEL_INVALID', 'onnxruntime cannot load the model', { cause: error });
  }
  for (const name of config.outputs) {
    if (!session.outputNames.includes(name))
      throw new ConfigError(
        'MODEL_CONFIG_INVALID',
        `model config field outputs names ${JSON.stringify(name)}, which the model lacks`,
      );
  }
  if (!session.inputNames.includes(config.input))
    throw new ConfigError(
      'MODEL_CONFIG_INVALID',
      `model config field input names ${JSON.stringify(config.input)}, which the model lacks`,
    );

  const pattern = new RegExp(config.tokenizer.pattern, 'g');
  const tokenize = (text: string) =>
    (config.tokenizer.lowercase ? text.toLowerCase() : text)
      .match(pattern)
      ?.slice(0, config.tokenizer.maxTokens) ?? [];

  return {
    identity: {
      fileSha256: toHex(fileHash),
      configSha256: toHex(configHash),
      modelHash: modelHash(fileHash, configHash),
    },
    config,
    async run(texts) {
      if (texts.length === 0) return [];
      const tokens = texts.map(tokenize);
      const width = Math.max(1, ...tokens.map((row) => row.length));
      const data = tokens.flatMap((row) => [
        ...row,
        ...new Array<string>(width - row.length).fill(''),
      ]);
      const results = await session.run({
        [config.input]: new ort.Tensor('string', data, [texts.length, width]),
      });
      return texts.map((_, row) => {
        const output: Record<string, number[]> = {};
        for (const name of config.outputs) {
          const tensor = results[name];
          if (tensor === undefined)
            throw new ConfigError('MODEL_INVALID', `model produced no ${name}`);
          const perRow = tensor.data.length / texts.length;
          output[name] = Array.from(tensor.data as Float32Array).slice(
            row * perRow,
            (row + 1) * perRow,
          );
        }
        return new TextEncoder().encode(JSON.stringify(output));
      });
    },
    close: () => session.release(),
  };
}
