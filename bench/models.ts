/**
 * Models other than the classifier: the bundled OCR model (PaddleOCR's
 * recogniser on a line of text), plain against attested and sealed, as
 * bench/enclave.ts measures the classifier; and loading a generated 200 MB model, its time
 * and peak memory, the way the enclave loads it (hashed as a stream, loaded
 * through the same descriptor) beside reading it into memory first. Each load
 * runs in a process of its own, so its peak resident memory is its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { GENERIC_MODELS, loadModel, type LoadedModel } from '@veritee/enclave';
import { attestedWithSealed } from './enclave.js';
import { formatRun, load, printRow } from './measure.js';

const OCR_IMAGE = join(import.meta.dirname, '..', 'enclave', 'test', 'fixtures', 'ocr-line.png');
const LARGE_MODEL_MB = 200;

async function attestedRows(
  label: string,
  model: LoadedModel,
  input: Parameters<LoadedModel['infer']>[0],
  concurrencies: readonly number[],
): Promise<void> {
  const { inference, sealed } = attestedWithSealed(model, 2000, () => ({ input }));
  await inference.infer(sealed[0]!);
  for (const concurrency of concurrencies) {
    // Interleaved, so both see the same machine.
    const plain = await load(concurrency, () => model.infer(input));
    const attested = await load(concurrency, (index) =>
      inference.infer(sealed[index % sealed.length]!),
    );
    printRow(`${label}, plain onnxruntime, c=${concurrency}`, formatRun(plain));
    printRow(
      `${label}, attested + sealed, c=${concurrency}`,
      `${formatRun(attested)}  ratio ${(attested.perSecond / plain.perSecond).toFixed(2)}  p50 +${(attested.p50 - plain.p50).toFixed(2)} ms`,
    );
  }
}

/** A model with one float32 initializer of `megabytes`: y = x + sum(w). */
function writeLargeModel(path: string, megabytes: number): void {
  const { onnx } = onnxProto;
  const count = (megabytes * 1024 * 1024) / 4;
  const weights = Buffer.alloc(count * 4);
  for (let offset = 0; offset < weights.byteLength; offset += 4096)
    weights.writeFloatLE(offset / 4096 / count, offset);
  const tensor = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((dimValue) => ({ dimValue })) },
      },
    },
  });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'large',
        node: [
          { opType: 'ReduceSum', input: ['w'], output: ['total'], attribute: [] },
          { opType: 'Add', input: ['x', 'total'], output: ['y'] },
        ],
        initializer: [
          { name: 'w', dims: [count], dataType: onnx.TensorProto.DataType.FLOAT, rawData: weights },
        ],
        input: [tensor('x', [1])],
        output: [tensor('y', [1])],
      },
    }),
  ).finish();
  writeFileSync(path, bytes);
}

/** Loads the model in a child process: seconds to load and its peak resident memory, MB. */
function loadInChild(
  script: string,
  model: string,
  config: string,
  sha256: string,
  way: string,
): { seconds: number; peakMb: number } {
  const output = execFileSync(
    process.execPath,
    ['--conditions=veritee-source', '--import', 'tsx', script, model, config, sha256, way],
    { encoding: 'utf8' },
  );
  return JSON.parse(output) as { seconds: number; peakMb: number };
}

export async function benchModels(): Promise<void> {
  const ocr = await loadModel({
    modelPath: GENERIC_MODELS.ocr.path,
    configPath: GENERIC_MODELS.ocr.configPath,
    expectedSha256: GENERIC_MODELS.ocr.sha256,
  });
  try {
    await attestedRows(
      'OCR (PP-OCRv4, one text line)',
      ocr,
      { image: readFileSync(OCR_IMAGE).toString('base64') },
      [1, 2],
    );
  } finally {
    await ocr.close();
  }

  const dir = mkdtempSync(join(tmpdir(), 'veritee-large-model-'));
  try {
    const model = join(dir, 'model.onnx');
    const config = join(dir, 'config.json');
    writeLargeModel(model, LARGE_MODEL_MB);
    writeFileSync(
      config,
      JSON.stringify({
        format: 'veritee.model-config/v2',
        task: 'scores',
        inputs: [{ name: 'x', dtype: 'float32', shape: [1], source: 'request' }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
      }),
    );
    const sha256 = execFileSync('sha256sum', [model], { encoding: 'utf8' }).split(' ')[0]!;
    const script = join(import.meta.dirname, 'load-model-child.ts');
    const runs: Record<string, { seconds: number; peakMb: number }[]> = {
      stream: [],
      buffer: [],
      none: [],
    };
    for (let round = 0; round < 3; round++)
      for (const way of ['stream', 'buffer', 'none'] as const)
        runs[way]!.push(loadInChild(script, model, config, sha256, way));
    const median = (values: number[]) => values.sort((a, b) => a - b)[1] ?? 0;
    const summary = (way: string) => ({
      seconds: median(runs[way]!.map((run) => run.seconds)),
      peakMb: median(runs[way]!.map((run) => run.peakMb)),
    });
    const stream = summary('stream');
    const buffer = summary('buffer');
    const base = summary('none').peakMb;
    // Peak memory above the process's own, in model sizes: onnxruntime parses the
    // protobuf and builds its tensors from it, so its own load is about two.
    const sizes = (peakMb: number) => ((peakMb - base) / LARGE_MODEL_MB).toFixed(2);
    printRow(
      `${LARGE_MODEL_MB} MB model, hashed as a stream, loaded by descriptor`,
      `${stream.seconds.toFixed(2)} s  peak +${(stream.peakMb - base).toFixed(0)} MB = ${sizes(stream.peakMb)} x model`,
    );
    printRow(
      `${LARGE_MODEL_MB} MB model, read into memory first`,
      `${buffer.seconds.toFixed(2)} s  peak +${(buffer.peakMb - base).toFixed(0)} MB = ${sizes(buffer.peakMb)} x model`,
    );
    printRow(
      'aim',
      `no copy of ours: the enclave's way saves >= 0.9 x model; saved ${((buffer.peakMb - stream.peakMb) / LARGE_MODEL_MB).toFixed(2)} x`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
