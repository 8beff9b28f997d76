/**
 * One model load, for bench/models.ts, in a process of its own: prints the
 * seconds it took and the process's peak resident memory (VmHWM), in MB.
 * `stream` is how the enclave loads; `buffer` reads the whole file first;
 * `none` loads nothing, for the process's own baseline.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadModel } from '@veritee/enclave';

const [model = '', configPath = '', expectedSha256 = '', way = 'stream'] = process.argv.slice(2);
const started = performance.now();
if (way !== 'none') {
  const loaded = await loadModel({
    modelPath: model,
    configPath,
    expectedSha256,
    ...(way === 'buffer' ? { modelBytes: new Uint8Array(await readFile(model)) } : {}),
  });
  await loaded.close();
}
const seconds = (performance.now() - started) / 1000;
const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
process.stdout.write(JSON.stringify({ seconds, peakMb: Number(peak) / 1024 }));
