import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
/** Runs `operation` repeatedly for about `millis` ms, three rounds, and returns the median rate per second. */
export async function ratePerSecond(operation: () => unknown, millis = 1500): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(millis) * 1_000_000n;
    let count = 0;
    let now = start;
    while (now < deadline) {
      const result = operation();
      if (result instanceof Promise) await result;
      count++;
      if ((count & 7) === 0) now = process.hrtime.bigint();
    }
    now = process.hrtime.bigint();
    rates.push((count * 1e9) / Number(now - start));
  }
  return rates.sort((a, b) => a - b)[1] ?? 0;
}

export function printRow(label: string, value: string): void {
  // At least one space between, when a label is longer than the column.
  process.stdout.write(`${label.padEnd(63)} ${value}\n`);
}

export interface Run {
  /** Operations completed. */
  readonly count: number;
  readonly perSecond: number;
  /** Latency percentiles, ms. */
  readonly p50: number;
  readonly p99: number;
}

/** Runs `concurrency` loops of `operation(i)` for `millis` ms: throughput and latency percentiles. */
export async function load(
  concurrency: number,
  operation: (index: number) => Promise<unknown>,
  millis = 3000,
): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + millis;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const began = performance.now();
        await operation(next++);
        latencies.push(performance.now() - began);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    count: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
  };
}

export function formatRun(run: Run): string {
  return `${run.perSecond.toFixed(0)} req/s  p50 ${run.p50.toFixed(2)} ms  p99 ${run.p99.toFixed(2)} ms`;
}

/** A run measured by bench/http-load.ts, whose latencies are whole milliseconds. */
export function formatLoad(run: Run & { readonly failures: number }): string {
  const ms = (value: number) => (value < 1 ? '<1' : value.toFixed(0));
  return `${run.perSecond.toFixed(0)} req/s  p50 ${ms(run.p50)} ms  p99 ${ms(run.p99)} ms${
    run.failures > 0 ? `  ${run.failures} FAILED` : ''
  }`;
}

/**
 * Loads `base` from a separate process (bench/http-load.ts), so client and
 * server each have a core, as they would on separate machines.
 */
export async function loadFromProcess(
  base: string,
  concurrency: number,
  template: string,
  millis = 3000,
  /** A JSON file of request bodies: each request POSTs the next. */
  bodiesFile?: string,
): Promise<Run & { readonly failures: number; readonly cpuMsPerRequest: number }> {
  const script = new URL('./http-load.ts', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    script,
    base,
    String(concurrency),
    String(millis),
    template,
    ...(bodiesFile === undefined ? [] : [bodiesFile]),
  ]);
  return JSON.parse(stdout) as Run & { failures: number; cpuMsPerRequest: number };
}
