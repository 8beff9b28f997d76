/**
 * The CLI's cold start: the installed bin (its bundle) run as a new process,
 * as a relying party runs it, each command five times interleaved with the
 * others and with a bare `node -e 0` for scale; the median of each.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printRow } from './measure.js';

const BIN = fileURLToPath(new URL('../cli/bin/veritee.js', import.meta.url));
const VECTOR = fileURLToPath(
  new URL('../../shared/vectors/snp-virtee-milan-v2/report.bin', import.meta.url),
);

function seconds(args: readonly string[]): number {
  const started = performance.now();
  try {
    execFileSync(process.execPath, args, { stdio: 'ignore' });
  } catch {
    // A refusal (exit 1) still measures the start; the figure is the time.
  }
  return (performance.now() - started) / 1000;
}

export function benchCli(): void {
  const runs: Array<[string, string[], boolean]> = [
    ['node -e 0 (for scale)', ['-e', '0'], false],
    ['veritee --version', [BIN, '--version'], false],
    ['veritee verify --help', [BIN, 'verify', '--help'], true],
    ['veritee receipt verify --help', [BIN, 'receipt', 'verify', '--help'], true],
    ['veritee verify <SNP report> --offline', [BIN, 'verify', VECTOR, '--offline'], true],
    ['veritee receipt verify (no file: usage error)', [BIN, 'receipt', 'verify'], true],
  ];
  const times = runs.map((): number[] => []);
  for (let round = 0; round < 5; round++)
    runs.forEach(([, args], index) => times[index]!.push(seconds(args)));
  runs.forEach(([label, , aim], index) => {
    const median = [...times[index]!].sort((a, b) => a - b)[2] ?? 0;
    printRow(`cold start, ${label}`, `${median.toFixed(2)} s${aim ? '  (aim < 0.5 s)' : ''}`);
  });
}
