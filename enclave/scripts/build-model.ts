/**
 * Builds the bundled default model, `models/guardrail.onnx`, from the trained
 * weights that the llm_guardrail package (ISC) ships as JSON: three prompt
 * classifiers (prompt injection, jailbreak, malicious), each TF-IDF over word
 * 1-2-grams followed by logistic regression. The graph reproduces them exactly:
 * per head TfIdfVectorizer (TFIDF, IDF weights) -> L2 normalisation -> MatMul ->
 * Add -> Sigmoid. Input `tokens: string[batch, seq]` (padded with ""), outputs
 * `injection`, `jailbreak`, `malicious: float32[batch, 1]`. The bytes are
 * deterministic, so the SHA-256 pinned in src/model/bundled.ts holds on every
 * rebuild. Runs at build time (`npm run build-model -w @veritee/enclave`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { GUARDRAIL_CONFIG } from '../src/model/bundled.js';

const { onnx } = onnxProto;

interface HeadWeights {
  coefficients: number[][];
  intercept: number[];
  vocabulary: Record<string, number>;
  idf: number[];
  ngram_range: [number, number];
  lowercase: boolean;
}

const HEADS = [
  ['injection', 'prompt_injection_model.json'],
  ['jailbreak', 'jailbreak_model.json'],
  ['malicious', 'malicious_model.json'],
] as const;
const OPSET = 13;
const { FLOAT, STRING } = onnx.TensorProto.DataType;

const require = createRequire(import.meta.url);
const weightsDir = join(dirname(require.resolve('llm_guardrail/package.json')), 'model');
const outDir = join(import.meta.dirname, '..', 'models');

const attribute = (
  name: string,
  value: Partial<onnxProto.onnx.IAttributeProto>,
): onnxProto.onnx.IAttributeProto => ({
  name,
  ...value,
});
const floats = (name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto => ({
  name,
  dims,
  dataType: FLOAT,
  floatData: values,
});

const nodes: onnxProto.onnx.INodeProto[] = [];
const initializers: onnxProto.onnx.ITensorProto[] = [floats('epsilon', [], [1e-12])];
const outputs: onnxProto.onnx.IValueInfoProto[] = [];

for (const [head, file] of HEADS) {
  const weights = JSON.parse(readFileSync(join(weightsDir, file), 'utf8')) as HeadWeights;
  if (weights.ngram_range[0] !== 1 || weights.ngram_range[1] !== 2 || !weights.lowercase)
    throw new Error(`${file}: expected lower-cased 1-2-grams`);
  const entries = Object.entries(weights.vocabulary).sort((a, b) => a[1] - b[1]);
  const unigrams = entries.filter(([term]) => !term.includes(' '));
  const bigrams = entries.filter(([term]) => term.includes(' '));
  const pool = [...unigrams.map(([term]) => term), ...bigrams.flatMap(([term]) => term.split(' '))];
  const indexes = [...unigrams, ...bigrams].map(([, index]) => index);
  const width = weights.idf.length;
  const coefficients = weights.coefficients[0] ?? [];
  if (coefficients.length !== width || pool.length !== unigrams.length + 2 * bigrams.length)
    throw new Error(`${file}: inconsistent weights`);

  nodes.push(
    {
      opType: 'TfIdfVectorizer',
      input: ['tokens'],
      output: [`${head}_tfidf`],
      name: `${head}_tfidf`,
      attribute: [
        attribute('mode', {
          type: onnx.AttributeProto.AttributeType.STRING,
          s: Buffer.from('TFIDF'),
        }),
        attribute('min_gram_length', { type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
        attribute('max_gram_length', { type: onnx.AttributeProto.AttributeType.INT, i: 2 }),
        attribute('max_skip_count', { type: onnx.AttributeProto.AttributeType.INT, i: 0 }),
        attribute('ngram_counts', {
          type: onnx.AttributeProto.AttributeType.INTS,
          ints: [0, unigrams.length],
        }),
        attribute('ngram_indexes', { type: onnx.AttributeProto.AttributeType.INTS, ints: indexes }),
        attribute('pool_strings', {
          type: onnx.AttributeProto.AttributeType.STRINGS,
          strings: pool.map((term) => Buffer.from(term, 'utf8')),
        }),
        attribute('weights', {
          type: onnx.AttributeProto.AttributeType.FLOATS,
          floats: indexes.map((index) => weights.idf[index] ?? 0),
        }),
      ],
    },
    {
      opType: 'ReduceSumSquare',
      input: [`${head}_tfidf`],
      output: [`${head}_sumsq`],
      name: `${head}_sumsq`,
      attribute: [
        attribute('axes', { type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }),
        attribute('keepdims', { type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
      ],
    },
    { opType: 'Sqrt', input: [`${head}_sumsq`], output: [`${head}_norm`], name: `${head}_norm` },
    {
      opType: 'Max',
      input: [`${head}_norm`, 'epsilon'],
      output: [`${head}_safe_norm`],
      name: `${head}_safe_norm`,
    },
    {
      opType: 'Div',
      input: [`${head}_tfidf`, `${head}_safe_norm`],
      output: [`${head}_unit`],
      name: `${head}_unit`,
    },
    {
      opType: 'MatMul',
      input: [`${head}_unit`, `${head}_coef`],
      output: [`${head}_dot`],
      name: `${head}_dot`,
    },
    {
      opType: 'Add',
      input: [`${head}_dot`, `${head}_intercept`],
      output: [`${head}_logit`],
      name: `${head}_logit`,
    },
    { opType: 'Sigmoid', input: [`${head}_logit`], output: [head], name: head },
  );
  initializers.push(
    floats(`${head}_coef`, [width, 1], coefficients),
    floats(`${head}_intercept`, [1], [weights.intercept[0] ?? 0]),
  );
  outputs.push({
    name: head,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 1 }] } },
    },
  });
}

const model = onnx.ModelProto.create({
  irVersion: 7,
  producerName: 'veritee',
  producerVersion: '1',
  opsetImport: [{ domain: '', version: OPSET }],
  graph: {
    name: 'veritee_guardrail',
    node: nodes,
    initializer: initializers,
    input: [
      {
        name: 'tokens',
        type: {
          tensorType: {
            elemType: STRING,
            shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }] },
          },
        },
      },
    ],
    output: outputs,
  },
});
const bytes = onnx.ModelProto.encode(model).finish();
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'guardrail.onnx'), bytes);
process.stdout.write(
  `wrote models/guardrail.onnx: ${bytes.byteLength} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}\n`,
);
// The tokenizer is part of what ran: its config is hashed into the model identity too.
const config = `${JSON.stringify(GUARDRAIL_CONFIG)}\n`;
writeFileSync(join(outDir, 'guardrail.json'), config);
process.stdout.write(
  `wrote models/guardrail.json: sha256 ${createHash('sha256').update(config).digest('hex')}\n`,
);
