/**
 * What a sealed inference request asks the model to run on, beyond a plain
 * prompt: text with generation limits, chat messages, an image, or raw
 * tensors. Everything here stays JSON (images and tensor data base64), so the
 * input commitment is SHA-256(salt || RFC 8785 canonical JSON of the input):
 * whoever holds the input and salt recomputes it with any JCS library. A plain
 * prompt keeps its commitment over the UTF-8 prompt alone.
 *
 * Only the shape is checked here; whether an input suits the loaded model
 * (dtype, shape, image size) is the enclave's check, against its model config.
 */
import canonicalize from 'canonicalize';
import { EvidenceError } from '../errors.js';
import { isBase64 } from '../bytes.js';

/** The tensor element types a request may carry. */
export const TENSOR_DTYPES = ['float32', 'int64', 'int32', 'uint8', 'bool'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** A raw tensor: row-major little-endian bytes, base64. */
export interface TensorJson {
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  readonly data: string;
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** Limits on generated text: at most `maxTokens` new tokens, stopping early at any `stop` string. */
export interface GenerationLimits {
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
}

export type InferenceInput =
  | ({ readonly text: string } & GenerationLimits)
  | ({ readonly messages: readonly ChatMessage[] } & GenerationLimits)
  | { readonly image: string }
  | { readonly tensors: Readonly<Record<string, TensorJson>> };

/** Bounds on everything a stranger can put in an input; the request's byte limit bounds the rest. */
export const INPUT_LIMITS = {
  maxTokens: 4096,
  stops: 4,
  stopChars: 64,
  messages: 64,
  tensors: 16,
  tensorRank: 8,
  nameChars: 128,
} as const;

const ROLES = new Set(['system', 'user', 'assistant']);

function invalid(message: string): never {
  throw new EvidenceError('OHTTP_REQUEST_INVALID', `input ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) invalid(`${where} has an unknown field ${JSON.stringify(key)}`);
}

function parseLimits(value: Record<string, unknown>): GenerationLimits {
  const { maxTokens, stop } = value;
  if (
    maxTokens !== undefined &&
    (typeof maxTokens !== 'number' ||
      !Number.isInteger(maxTokens) ||
      maxTokens < 1 ||
      maxTokens > INPUT_LIMITS.maxTokens)
  )
    invalid(`maxTokens must be an integer from 1 to ${INPUT_LIMITS.maxTokens}`);
  if (
    stop !== undefined &&
    (!Array.isArray(stop) ||
      stop.length > INPUT_LIMITS.stops ||
      stop.some(
        (item) =>
          typeof item !== 'string' || item.length === 0 || item.length > INPUT_LIMITS.stopChars,
      ))
  )
    invalid(
      `stop must list at most ${INPUT_LIMITS.stops} strings of 1 to ${INPUT_LIMITS.stopChars} characters`,
    );
  return {
    ...(maxTokens === undefined ? {} : { maxTokens: maxTokens }),
    ...(stop === undefined ? {} : { stop: stop as string[] }),
  };
}

function parseTensor(name: string, value: unknown): TensorJson {
  if (!isObject(value)) return invalid(`tensor ${JSON.stringify(name)} must be an object`);
  onlyKeys(value, ['dtype', 'shape', 'data'], `tensor ${JSON.stringify(name)}`);
  const { dtype, shape, data } = value;
  if (!(TENSOR_DTYPES as readonly unknown[]).includes(dtype))
    invalid(`tensor ${JSON.stringify(name)} dtype must be one of ${TENSOR_DTYPES.join(', ')}`);
  if (
    !Array.isArray(shape) ||
    shape.length > INPUT_LIMITS.tensorRank ||
    shape.some(
      (dim) => typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0 || dim > 2 ** 31,
    )
  )
    invalid(
      `tensor ${JSON.stringify(name)} shape must list at most ${INPUT_LIMITS.tensorRank} sizes`,
    );
  if (typeof data !== 'string' || !isBase64(data))
    invalid(`tensor ${JSON.stringify(name)} data must be base64`);
  return { dtype: dtype as TensorDtype, shape: shape as number[], data: data };
}

/**
 * Checks an input's shape and bounds.
 * @throws EvidenceError OHTTP_REQUEST_INVALID naming what is wrong
 */
export function parseInferenceInput(value: unknown): InferenceInput {
  if (!isObject(value)) return invalid('must be an object');
  if ('text' in value) {
    onlyKeys(value, ['text', 'maxTokens', 'stop'], 'text input');
    if (typeof value['text'] !== 'string') invalid('text must be a string');
    return { text: value['text'], ...parseLimits(value) };
  }
  if ('messages' in value) {
    onlyKeys(value, ['messages', 'maxTokens', 'stop'], 'chat input');
    const messages = value['messages'];
    if (
      !Array.isArray(messages) ||
      messages.length === 0 ||
      messages.length > INPUT_LIMITS.messages
    )
      invalid(`messages must list 1 to ${INPUT_LIMITS.messages} messages`);
    const parsed = (messages as unknown[]).map((message): ChatMessage => {
      if (!isObject(message)) return invalid('messages must be objects');
      onlyKeys(message, ['role', 'content'], 'a message');
      if (!ROLES.has(message['role'] as string) || typeof message['content'] !== 'string')
        invalid('each message needs a role (system, user, assistant) and text content');
      return {
        role: message['role'] as ChatMessage['role'],
        content: message['content'],
      };
    });
    return { messages: parsed, ...parseLimits(value) };
  }
  if ('image' in value) {
    onlyKeys(value, ['image'], 'image input');
    if (typeof value['image'] !== 'string' || !isBase64(value['image']))
      invalid('image must be base64');
    return { image: value['image'] };
  }
  if ('tensors' in value) {
    onlyKeys(value, ['tensors'], 'tensor input');
    const tensors = value['tensors'];
    if (!isObject(tensors)) return invalid('tensors must be an object of named tensors');
    const names = Object.keys(tensors);
    if (names.length === 0 || names.length > INPUT_LIMITS.tensors)
      invalid(`tensors must name 1 to ${INPUT_LIMITS.tensors} tensors`);
    const parsed: Record<string, TensorJson> = {};
    for (const name of names) {
      if (name.length > INPUT_LIMITS.nameChars) invalid('a tensor name is too long');
      parsed[name] = parseTensor(name, tensors[name]);
    }
    return { tensors: parsed };
  }
  return invalid('must hold text, messages, image or tensors');
}

/** The bytes an input commitment covers: RFC 8785 canonical JSON of the input. */
export function inputCommitmentBytes(input: InferenceInput): Uint8Array {
  return new TextEncoder().encode(canonicalize(input) ?? '');
}
