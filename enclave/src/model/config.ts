/**
 * A model's configuration (`veritee.model-config/v1`): how text becomes the
 * model's input and which outputs to return. It is hashed into the model's
 * identity with the ONNX bytes, since the tokenizer is part of what ran.
 */
import { ConfigError } from '@veritee/attestations';

export const MODEL_CONFIG_FORMAT = 'veritee.model-config/v1';

export interface ModelConfig {
  readonly format: typeof MODEL_CONFIG_FORMAT;
  /** A text model: lower-cased (optionally) text split by a regular expression into a string tensor [batch, seq], padded with "". */
  readonly tokenizer: {
    readonly pattern: string;
    readonly lowercase: boolean;
    readonly maxTokens: number;
  };
  readonly input: string;
  readonly outputs: readonly string[];
}

/**
 * @throws ConfigError MODEL_CONFIG_INVALID naming the bad field
 */
export function parseModelConfig(value: unknown): ModelConfig {
  const bad = (field: string, problem: string): never => {
    throw new ConfigError('MODEL_CONFIG_INVALID', `model config field ${field} ${problem}`);
  };
  if (typeof value !== 'object' || value === null) return bad('config', 'must be an object');
  const config = value as Record<string, unknown>;
  if (config['format'] !== MODEL_CONFIG_FORMAT) bad('format', `must be "${MODEL_CONFIG_FORMAT}"`);
  const tokenizer = config['tokenizer'] as Record<string, unknown> | undefined;
  if (typeof tokenizer !== 'object' || tokenizer === null)
    return bad('tokenizer', 'must be an object');
  if (typeof tokenizer['pattern'] !== 'string')
    bad('tokenizer.pattern', 'must be a regular expression source');
  try {
    new RegExp(tokenizer['pattern'] as string, 'g');
  } catch {
    bad('tokenizer.pattern', 'is not a valid regular expression');
  }
  if (typeof tokenizer['lowercase'] !== 'boolean')
    bad('tokenizer.lowercase', 'must be true or false');
  const maxTokens = tokenizer['maxTokens'];
  if (
    typeof maxTokens !== 'number' ||
    !Number.isInteger(maxTokens) ||
    maxTokens < 1 ||
    maxTokens > 65536
  )
    bad('tokenizer.maxTokens', 'must be an integer from 1 to 65536');
  if (typeof config['input'] !== 'string' || config['input'].length === 0)
    bad('input', 'must name the input tensor');
  const outputs = config['outputs'];
  if (
    !Array.isArray(outputs) ||
    outputs.length === 0 ||
    outputs.some((name) => typeof name !== 'string')
  )
    bad('outputs', 'must list output tensor names');
  return config as unknown as ModelConfig;
}
