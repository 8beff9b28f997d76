/**
 * A model's configuration: the interface of its ONNX graph and how requests
 * become its inputs and its outputs become the answer. It is hashed into the
 * model's identity with the ONNX bytes, and it pins every other file it names
 * (tokenizer, dictionary) by SHA-256, so the identity covers all that ran.
 *
 * `veritee.model-config/v1` (a regular-expression tokenizer into one string
 * tensor, named float outputs) is still read; it becomes the v2 equivalent.
 */
import { ConfigError } from '@veritee/attestations';

export const MODEL_CONFIG_FORMAT_V1 = 'veritee.model-config/v1';
export const MODEL_CONFIG_FORMAT = 'veritee.model-config/v2';

/** The first config format: text split by a regular expression into one string tensor, named float outputs. */
export interface ModelConfigV1 {
  readonly format: typeof MODEL_CONFIG_FORMAT_V1;
  readonly tokenizer: {
    readonly pattern: string;
    readonly lowercase: boolean;
    readonly maxTokens: number;
  };
  readonly input: string;
  readonly outputs: readonly string[];
}

/** Element types of declared tensors. */
export const MODEL_DTYPES = ['float32', 'int64', 'int32', 'uint8', 'bool', 'string'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/**
 * Where an input tensor's value comes from: the request's raw tensors, the
 * tokenizer (ids, mask, type ids, positions, or the regex tokenizer's strings),
 * or the request's image after the declared preprocessing.
 */
export const INPUT_SOURCES = [
  'request',
  'tokens',
  'input_ids',
  'attention_mask',
  'token_type_ids',
  'position_ids',
  'image',
] as const;
export type InputSource = (typeof INPUT_SOURCES)[number];

/** A tensor's interface: a fixed size, or a name for a size that varies (batch, sequence). */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: ModelDtype;
  readonly shape: readonly (number | string)[];
}

export interface InputSpec extends TensorSpec {
  readonly source: InputSource;
}

/**
 * What the answer holds: named outputs as numbers (`scores`), named outputs as
 * tensors (`tensors`), one pooled vector (`embedding`), text read from an image
 * (`ocr`), or generated text (`generate`).
 */
export const MODEL_TASKS = ['scores', 'tensors', 'embedding', 'ocr', 'generate'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

export type TokenizerSpec =
  | {
      readonly kind: 'regex';
      readonly pattern: string;
      readonly lowercase: boolean;
      readonly maxTokens: number;
    }
  | {
      readonly kind: 'huggingface';
      /** A `tokenizer.json` named in `files`. */
      readonly file: string;
      /** A `tokenizer_config.json` named in `files` (special tokens, chat template). */
      readonly config?: string;
      readonly maxTokens: number;
    };

export interface ImageSpec {
  /** Height the image is resized to; the width follows the aspect ratio. */
  readonly height: number;
  readonly maxWidth: number;
  /** Largest decoded image accepted, in pixels. */
  readonly maxPixels: number;
  /** Channel order the model was trained on. */
  readonly channels: 'rgb' | 'bgr';
  /** Per channel, in `channels` order: value = (pixel / 255 - mean) / std. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export interface ModelConfig {
  readonly format: typeof MODEL_CONFIG_FORMAT;
  readonly task: ModelTask;
  readonly inputs: readonly InputSpec[];
  /** The outputs the answer is built from (for `scores` and `tensors`, the ones returned). */
  readonly outputs: readonly TensorSpec[];
  /** Other files the model needs, by name (beside the config) and SHA-256, hex. */
  readonly files: Readonly<Record<string, string>>;
  readonly tokenizer?: TokenizerSpec;
  readonly image?: ImageSpec;
  /** For `ocr`: CTC decoding of `output` with a dictionary file (one character per line). */
  readonly ctc?: { readonly output: string; readonly dictionary: string; readonly space: boolean };
  /** For `embedding`: which output, how token vectors are pooled, whether to L2-normalise. */
  readonly embedding?: {
    readonly output: string;
    readonly pooling: 'mean' | 'cls' | 'none';
    readonly normalize: boolean;
  };
  /** For `generate`: a decoder-only model with a KV cache (optimum's layout). */
  readonly generation?: GenerationSpec;
}

export interface GenerationSpec {
  readonly logits: string;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  /** Input and output names of the cache; `{layer}` and `{kind}` (key, value) are filled in. */
  readonly past: string;
  readonly present: string;
  /** Token ids that end generation. */
  readonly eosTokenIds: readonly number[];
  /** Most new tokens a request may ask for, and the default. */
  readonly maxNewTokens: number;
  /** Most tokens, prompt and generated, in one sequence. */
  readonly maxContext: number;
}

type Bad = (field: string, problem: string) => never;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function integer(bad: Bad, value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    bad(field, `must be an integer from ${min} to ${max}`);
  return value;
}

function name(bad: Bad, value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256)
    bad(field, 'must be a name');
  return value;
}

function tensorSpec(bad: Bad, value: unknown, field: string): TensorSpec {
  if (!isObject(value)) return bad(field, 'must be an object');
  const dtype = value['dtype'];
  if (!(MODEL_DTYPES as readonly unknown[]).includes(dtype))
    bad(`${field}.dtype`, `must be one of ${MODEL_DTYPES.join(', ')}`);
  const shape = value['shape'];
  if (
    !Array.isArray(shape) ||
    shape.length > 8 ||
    shape.some(
      (dim) =>
        !(typeof dim === 'string' && dim.length > 0) &&
        !(typeof dim === 'number' && Number.isInteger(dim) && dim >= 0),
    )
  )
    bad(`${field}.shape`, 'must list at most 8 sizes or size names');
  return {
    name: name(bad, value['name'], `${field}.name`),
    dtype: dtype as ModelDtype,
    shape: shape as (number | string)[],
  };
}

function fileName(bad: Bad, files: Record<string, string>, value: unknown, field: string): string {
  if (typeof value !== 'string' || files[value] === undefined)
    bad(field, 'must name a file listed in files');
  return value;
}

function parseTokenizer(bad: Bad, value: unknown, files: Record<string, string>): TokenizerSpec {
  if (!isObject(value)) return bad('tokenizer', 'must be an object');
  const maxTokens = integer(bad, value['maxTokens'], 'tokenizer.maxTokens', 1, 65536);
  if (value['kind'] === 'regex') {
    if (typeof value['pattern'] !== 'string')
      bad('tokenizer.pattern', 'must be a regular expression source');
    try {
      new RegExp(value['pattern'], 'g');
    } catch {
      bad('tokenizer.pattern', 'is not a valid regular expression');
    }
    if (typeof value['lowercase'] !== 'boolean')
      bad('tokenizer.lowercase', 'must be true or false');
    return {
      kind: 'regex',
      pattern: value['pattern'],
      lowercase: value['lowercase'],
      maxTokens,
    };
  }
  if (value['kind'] === 'huggingface')
    return {
      kind: 'huggingface',
      file: fileName(bad, files, value['file'], 'tokenizer.file'),
      ...(value['config'] === undefined
        ? {}
        : { config: fileName(bad, files, value['config'], 'tokenizer.config') }),
      maxTokens,
    };
  return bad('tokenizer.kind', 'must be regex or huggingface');
}

function parseImage(bad: Bad, value: unknown): ImageSpec {
  if (!isObject(value)) return bad('image', 'must be an object');
  const triple = (field: string): [number, number, number] => {
    const list = value[field];
    if (
      !Array.isArray(list) ||
      list.length !== 3 ||
      list.some((item) => typeof item !== 'number' || !Number.isFinite(item))
    )
      bad(`image.${field}`, 'must list three numbers');
    return list as [number, number, number];
  };
  const std = triple('std');
  if (std.some((item) => item === 0)) bad('image.std', 'must not be zero');
  if (value['channels'] !== 'rgb' && value['channels'] !== 'bgr')
    bad('image.channels', 'must be rgb or bgr');
  return {
    height: integer(bad, value['height'], 'image.height', 1, 4096),
    maxWidth: integer(bad, value['maxWidth'], 'image.maxWidth', 1, 16384),
    maxPixels: integer(bad, value['maxPixels'], 'image.maxPixels', 1, 64 * 1024 * 1024),
    channels: value['channels'],
    mean: triple('mean'),
    std,
  };
}

function parseGeneration(bad: Bad, value: unknown): GenerationSpec {
  if (!isObject(value)) return bad('generation', 'must be an object');
  const template = (field: string): string => {
    const text = name(bad, value[field], `generation.${field}`);
    if (!text.includes('{layer}') || !text.includes('{kind}'))
      bad(`generation.${field}`, 'must contain {layer} and {kind}');
    return text;
  };
  const eos = value['eosTokenIds'];
  if (
    !Array.isArray(eos) ||
    eos.length > 16 ||
    eos.some((id) => typeof id !== 'number' || !Number.isInteger(id) || id < 0)
  )
    bad('generation.eosTokenIds', 'must list token ids');
  const maxNewTokens = integer(bad, value['maxNewTokens'], 'generation.maxNewTokens', 1, 4096);
  const maxContext = integer(bad, value['maxContext'], 'generation.maxContext', 2, 1 << 20);
  return {
    logits: name(bad, value['logits'], 'generation.logits'),
    layers: integer(bad, value['layers'], 'generation.layers', 1, 1024),
    heads: integer(bad, value['heads'], 'generation.heads', 1, 1024),
    headDim: integer(bad, value['headDim'], 'generation.headDim', 1, 4096),
    past: template('past'),
    present: template('present'),
    eosTokenIds: eos as number[],
    maxNewTokens,
    maxContext,
  };
}

/** A v1 config, read as the v2 config it means. */
function fromV1(bad: Bad, config: Record<string, unknown>): ModelConfig {
  const tokenizer = parseTokenizer(bad, { kind: 'regex', ...(config['tokenizer'] as object) }, {});
  const outputs = config['outputs'];
  if (
    !Array.isArray(outputs) ||
    outputs.length === 0 ||
    outputs.some((item) => typeof item !== 'string')
  )
    bad('outputs', 'must list output tensor names');
  return {
    format: MODEL_CONFIG_FORMAT,
    task: 'scores',
    inputs: [
      {
        name: name(bad, config['input'], 'input'),
        dtype: 'string',
        shape: ['batch', 'sequence'],
        source: 'tokens',
      },
    ],
    outputs: (outputs as string[]).map((output) => ({
      name: output,
      dtype: 'float32',
      shape: ['batch', 1],
    })),
    files: {},
    tokenizer,
  };
}

/**
 * @throws ConfigError MODEL_CONFIG_INVALID naming the bad field
 */
export function parseModelConfig(value: unknown): ModelConfig {
  const bad: Bad = (field, problem) => {
    throw new ConfigError('MODEL_CONFIG_INVALID', `model config field ${field} ${problem}`);
  };
  if (!isObject(value)) return bad('config', 'must be an object');
  if (value['format'] === MODEL_CONFIG_FORMAT_V1) return fromV1(bad, value);
  if (value['format'] !== MODEL_CONFIG_FORMAT)
    bad('format', `must be "${MODEL_CONFIG_FORMAT}" or "${MODEL_CONFIG_FORMAT_V1}"`);
  const task = value['task'];
  if (!(MODEL_TASKS as readonly unknown[]).includes(task))
    bad('task', `must be one of ${MODEL_TASKS.join(', ')}`);

  const files: Record<string, string> = {};
  const fileList = value['files'] ?? {};
  if (!isObject(fileList)) return bad('files', 'must map file names to SHA-256 hex');
  for (const [file, hash] of Object.entries(fileList)) {
    // Names only, beside the config: a config cannot reach elsewhere on disk.
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(file) || file.startsWith('.'))
      bad('files', `names ${JSON.stringify(file)}, which is not a plain file name`);
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))
      bad(`files.${file}`, 'must be a lower-case SHA-256 hex');
    files[file] = hash;
  }

  const inputs = value['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 64)
    bad('inputs', 'must list 1 to 64 inputs');
  const parsedInputs = (inputs as unknown[]).map((input, index): InputSpec => {
    const spec = tensorSpec(bad, input, `inputs[${index}]`);
    const source = (input as Record<string, unknown>)['source'];
    if (!(INPUT_SOURCES as readonly unknown[]).includes(source))
      bad(`inputs[${index}].source`, `must be one of ${INPUT_SOURCES.join(', ')}`);
    return { ...spec, source: source as InputSource };
  });
  const outputs = value['outputs'];
  if (!Array.isArray(outputs) || outputs.length === 0 || outputs.length > 64)
    bad('outputs', 'must list 1 to 64 outputs');
  const parsedOutputs = (outputs as unknown[]).map((output, index) =>
    tensorSpec(bad, output, `outputs[${index}]`),
  );
  const sources = new Set(parsedInputs.map((input) => input.source));
  const config: ModelConfig = {
    format: MODEL_CONFIG_FORMAT,
    task: task as ModelTask,
    inputs: parsedInputs,
    outputs: parsedOutputs,
    files,
    ...(value['tokenizer'] === undefined
      ? {}
      : { tokenizer: parseTokenizer(bad, value['tokenizer'], files) }),
    ...(value['image'] === undefined ? {} : { image: parseImage(bad, value['image']) }),
  };
  const outputNamed = (field: string, output: unknown) => {
    const text = name(bad, output, field);
    if (!parsedOutputs.some((spec) => spec.name === text))
      bad(field, 'must name one of the outputs');
    return text;
  };
  const textSources = ['tokens', 'input_ids', 'attention_mask', 'token_type_ids', 'position_ids'];
  if (textSources.some((source) => sources.has(source as InputSource)) && !config.tokenizer)
    bad('tokenizer', 'is required by inputs fed from text');
  if (sources.has('tokens') && config.tokenizer?.kind !== 'regex')
    bad('tokenizer', 'must be regex for inputs fed with tokens');
  if (sources.has('image') && !config.image)
    bad('image', 'is required by inputs fed from an image');

  switch (config.task) {
    case 'ocr': {
      const ctc = value['ctc'];
      if (!isObject(ctc)) return bad('ctc', 'is required for the ocr task');
      if (!sources.has('image')) bad('inputs', 'must take an image for the ocr task');
      if (typeof ctc['space'] !== 'boolean') bad('ctc.space', 'must be true or false');
      return {
        ...config,
        ctc: {
          output: outputNamed('ctc.output', ctc['output']),
          dictionary: fileName(bad, files, ctc['dictionary'], 'ctc.dictionary'),
          space: ctc['space'],
        },
      };
    }
    case 'embedding': {
      const embedding = value['embedding'];
      if (!isObject(embedding)) return bad('embedding', 'is required for the embedding task');
      if (!['mean', 'cls', 'none'].includes(embedding['pooling'] as string))
        bad('embedding.pooling', 'must be mean, cls or none');
      if (typeof embedding['normalize'] !== 'boolean')
        bad('embedding.normalize', 'must be true or false');
      return {
        ...config,
        embedding: {
          output: outputNamed('embedding.output', embedding['output']),
          pooling: embedding['pooling'] as 'mean' | 'cls' | 'none',
          normalize: embedding['normalize'],
        },
      };
    }
    case 'generate': {
      const generation = parseGeneration(bad, value['generation']);
      if (config.tokenizer?.kind !== 'huggingface')
        bad('tokenizer', 'must be a huggingface tokenizer for the generate task');
      if (!sources.has('input_ids')) bad('inputs', 'must take input_ids for the generate task');
      outputNamed('generation.logits', generation.logits);
      return { ...config, generation };
    }
    case 'scores':
    case 'tensors':
      return config;
  }
}
