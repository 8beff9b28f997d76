/**
 * Answers built from a model's outputs, by task: text read by greedy CTC
 * decoding (OCR), and token vectors pooled into one embedding.
 */
import type ort from 'onnxruntime-node';
import type { ModelConfig } from './config.js';

/**
 * Greedy CTC decoding: the best class per step, repeats collapsed, blanks
 * (class 0) dropped; confidence is the mean probability of the kept steps.
 */
export function ctcDecode(
  probabilities: ort.Tensor,
  charset: readonly string[],
): { text: string; confidence: number } {
  const [, steps, classes] = probabilities.dims.map(Number) as [number, number, number];
  const data = probabilities.data as Float32Array;
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let step = 0; step < steps; step++) {
    let best = 0;
    const offset = step * classes;
    for (let index = 1; index < classes; index++)
      if ((data[offset + index] as number) > (data[offset + best] as number)) best = index;
    if (best !== 0 && best !== previous) {
      text += charset[best] ?? '';
      sum += data[offset + best] as number;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}

/** Pools token vectors [1, sequence, size] into one (mean over the mask, or the first), optionally unit length. */
export function pool(
  tensor: ort.Tensor,
  spec: NonNullable<ModelConfig['embedding']>,
  mask: ort.Tensor | undefined,
): number[] {
  const data = tensor.data as Float32Array;
  const size = Number(tensor.dims[tensor.dims.length - 1]);
  let vector: number[];
  if (spec.pooling === 'none') vector = Array.from(data.subarray(0, size));
  else if (spec.pooling === 'cls') vector = Array.from(data.subarray(0, size));
  else {
    const steps = data.length / size;
    const weights = mask === undefined ? undefined : Array.from(mask.data as BigInt64Array, Number);
    vector = new Array<number>(size).fill(0);
    let total = 0;
    for (let step = 0; step < steps; step++) {
      const weight = weights?.[step] ?? 1;
      total += weight;
      for (let index = 0; index < size; index++)
        vector[index] = (vector[index] as number) + weight * (data[step * size + index] as number);
    }
    vector = vector.map((value) => value / Math.max(total, 1e-9));
  }
  // Rounded to float32, the model's own precision: sent packed as float32, nothing is lost.
  if (!spec.normalize) return vector.map(Math.fround);
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return vector.map((value) => Math.fround(value / Math.max(norm, 1e-12)));
}
