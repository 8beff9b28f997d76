/**
 * Raw tensors in and out: a request's tensors are checked against the model's
 * declared interface (dtype, rank, fixed sizes, and one value per named size
 * across all inputs) before onnxruntime sees them; outputs go back as the same
 * JSON form (dtype, shape, base64 little-endian data).
 */
import ort from 'onnxruntime-node';
import { ConfigError, RequestError } from '@veritee/attestations';
import type { TensorDtype, TensorJson } from '@veritee/attestations/wire';
import type { TensorSpec } from './config.js';

const ELEMENT_BYTES: Record<TensorDtype, number> = {
  float32: 4,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

function mismatch(message: string): never {
  throw new RequestError(400, 'MODEL_INPUT_INVALID', message);
}

/** Named sizes seen so far, so `batch` means one value in every tensor. */
export type SizeBindings = Map<string, number>;

/**
 * Checks a shape against a declared one, binding named sizes.
 * @throws RequestError MODEL_INPUT_INVALID naming the tensor and the size
 */
export function checkShape(spec: TensorSpec, shape: readonly number[], sizes: SizeBindings): void {
  if (shape.length !== spec.shape.length)
    mismatch(
      `tensor ${spec.name} has rank ${shape.length}; the model takes rank ${spec.shape.length} [${spec.shape.join(', ')}]`,
    );
  spec.shape.forEach((declared, axis) => {
    const size = shape[axis] as number;
    if (typeof declared === 'number') {
      if (size !== declared)
        mismatch(`tensor ${spec.name} axis ${axis} is ${size}; the model takes ${declared}`);
      return;
    }
    const bound = sizes.get(declared);
    if (bound === undefined) sizes.set(declared, size);
    else if (bound !== size)
      mismatch(
        `tensor ${spec.name} axis ${axis} (${declared}) is ${size}, but ${declared} is ${bound} elsewhere`,
      );
  });
}

/**
 * One request tensor as an onnxruntime tensor, checked against its spec.
 * @throws RequestError MODEL_INPUT_INVALID for a missing tensor, wrong dtype, shape or data length
 */
export function requestTensor(
  spec: TensorSpec,
  tensor: TensorJson | undefined,
  sizes: SizeBindings,
): ort.Tensor {
  if (tensor === undefined) return mismatch(`the request lacks tensor ${spec.name}`);
  if (tensor.dtype !== spec.dtype)
    mismatch(`tensor ${spec.name} is ${tensor.dtype}; the model takes ${spec.dtype}`);
  checkShape(spec, tensor.shape, sizes);
  const elements = tensor.shape.reduce((product, size) => product * size, 1);
  const bytes = Buffer.from(tensor.data, 'base64');
  const expected = elements * ELEMENT_BYTES[tensor.dtype];
  if (bytes.byteLength !== expected)
    mismatch(
      `tensor ${spec.name} has ${bytes.byteLength} bytes of data; shape [${tensor.shape.join(', ')}] needs ${expected}`,
    );
  // A copy, aligned for the typed array.
  const buffer = new Uint8Array(bytes).buffer;
  const dims = [...tensor.shape];
  switch (tensor.dtype) {
    case 'float32': {
      const data = new Float32Array(buffer);
      if (data.some((value) => !Number.isFinite(value)))
        mismatch(`tensor ${spec.name} holds a value that is not finite`);
      return new ort.Tensor('float32', data, dims);
    }
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(buffer), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(buffer), dims);
    case 'uint8':
      return new ort.Tensor('uint8', new Uint8Array(buffer), dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(buffer), dims);
  }
}

/**
 * The output named `name` of a run.
 * @throws ConfigError MODEL_INVALID when the model produced none
 */
export function outputTensor(results: ort.InferenceSession.ReturnType, name: string): ort.Tensor {
  const tensor = results[name];
  if (tensor === undefined) throw new ConfigError('MODEL_INVALID', `model produced no ${name}`);
  return tensor;
}

/** An output tensor in the request's JSON form. */
export function tensorJson(tensor: ort.Tensor): TensorJson {
  const dtype = tensor.type as TensorDtype;
  if (!(dtype in ELEMENT_BYTES))
    throw new ConfigError('MODEL_INVALID', `the model produced a ${tensor.type} tensor`);
  const data = tensor.data as ArrayBufferView;
  return {
    dtype,
    shape: tensor.dims.map(Number),
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
}
