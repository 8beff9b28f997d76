/**
 * Greedy text generation with a decoder-only model exported with a KV cache
 * (optimum's layout: `input_ids`, `attention_mask`, `position_ids` and
 * `past_key_values.{layer}.{key,value}` in; `logits` and
 * `present.{layer}.{key,value}` out). Greedy, so one prompt always gives the
 * same text and the binding over that text is reproducible. Without the cache
 * the whole sequence is fed at every step: the same tokens, slower, which the
 * tests use to check the cache plumbing.
 */
import ort from 'onnxruntime-node';
import { RequestError } from '@veritee/attestations';
import type { GenerationSpec, InputSpec } from './config.js';
import { outputTensor } from './tensors.js';

export interface Generated {
  readonly tokens: readonly number[];
  readonly text: string;
  /** `stop`: an end-of-sequence token or a stop string; `length`: the token limit. */
  readonly finishReason: 'stop' | 'length';
}

export interface GenerateOptions {
  /** Runs the model once (the loader's run, which names a failure without quoting values). */
  readonly run: (feeds: Record<string, ort.Tensor>) => Promise<ort.InferenceSession.ReturnType>;
  readonly spec: GenerationSpec;
  readonly inputs: readonly InputSpec[];
  readonly promptIds: readonly number[];
  readonly maxNewTokens: number;
  readonly stop: readonly string[];
  readonly decode: (ids: readonly number[]) => string;
  /** Default true; false feeds the whole sequence each step. */
  readonly cache?: boolean;
}

/** A cache tensor's name: `template` with `{layer}` and `{kind}` filled in. */
export const cacheName = (template: string, layer: number, kind: 'key' | 'value') =>
  template.replaceAll('{layer}', String(layer)).replaceAll('{kind}', kind);

const int64 = (values: readonly number[]) =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (value) => BigInt(value)),
    [1, values.length],
  );

function argmaxLast(logits: ort.Tensor): number {
  const data = logits.data as Float32Array;
  const vocabulary = Number(logits.dims[logits.dims.length - 1]);
  const offset = data.length - vocabulary;
  let best = 0;
  for (let index = 1; index < vocabulary; index++)
    if ((data[offset + index] as number) > (data[offset + best] as number)) best = index;
  return best;
}

/**
 * @throws RequestError MODEL_INPUT_INVALID when the prompt fills the model's context
 * @throws ConfigError MODEL_INVALID when the model's outputs are not as configured
 */
export async function generate(options: GenerateOptions): Promise<Generated> {
  const { spec, promptIds } = options;
  const useCache = options.cache ?? true;
  if (promptIds.length === 0 || promptIds.length >= spec.maxContext)
    throw new RequestError(
      400,
      'MODEL_INPUT_INVALID',
      `the prompt must be 1 to ${spec.maxContext - 1} tokens for this model`,
    );
  const limit = Math.min(options.maxNewTokens, spec.maxContext - promptIds.length);
  const emptyCache = () => {
    const past: Record<string, ort.Tensor> = {};
    for (let layer = 0; layer < spec.layers; layer++)
      for (const kind of ['key', 'value'] as const)
        past[cacheName(spec.past, layer, kind)] = new ort.Tensor('float32', new Float32Array(0), [
          1,
          spec.heads,
          0,
          spec.headDim,
        ]);
    return past;
  };
  let past = emptyCache();
  let pastLength = 0;
  const sequence = [...promptIds];
  const generated: number[] = [];
  let finishReason: Generated['finishReason'] = 'length';
  let text = '';

  while (generated.length < limit) {
    const fresh = useCache ? sequence.slice(pastLength) : sequence;
    const offset = useCache ? pastLength : 0;
    const feeds: Record<string, ort.Tensor> = useCache ? { ...past } : emptyCache();
    for (const input of options.inputs) {
      if (input.source === 'input_ids') feeds[input.name] = int64(fresh);
      else if (input.source === 'attention_mask')
        feeds[input.name] = int64(new Array<number>(offset + fresh.length).fill(1));
      else if (input.source === 'position_ids')
        feeds[input.name] = int64(fresh.map((_, index) => offset + index));
      else if (input.source === 'token_type_ids')
        feeds[input.name] = int64(new Array<number>(fresh.length).fill(0));
    }
    const results = await options.run(feeds);
    const logits = outputTensor(results, spec.logits);
    if (useCache) {
      const next: Record<string, ort.Tensor> = {};
      for (let layer = 0; layer < spec.layers; layer++)
        for (const kind of ['key', 'value'] as const) {
          next[cacheName(spec.past, layer, kind)] = outputTensor(
            results,
            cacheName(spec.present, layer, kind),
          );
        }
      past = next;
      pastLength = sequence.length;
    }
    const token = argmaxLast(logits);
    if (spec.eosTokenIds.includes(token)) {
      finishReason = 'stop';
      break;
    }
    generated.push(token);
    sequence.push(token);
    text = options.decode(generated);
    const cut = options.stop
      .map((stop) => text.indexOf(stop))
      .filter((index) => index >= 0)
      .sort((a, b) => a - b)[0];
    if (cut !== undefined) {
      text = text.slice(0, cut);
      finishReason = 'stop';
      break;
    }
  }
  return { tokens: generated, text, finishReason };
}
