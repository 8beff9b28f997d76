/**
 * `npm run vectors`: the built `veritee` command,
 * as a user would run it. It simulates SEV-SNP (v2, v3, v5) and Nitro evidence
 * under this checkout's dev PKI and verifies each with --allow-simulated, then
 * verifies every published real-hardware vector against the real AMD and AWS
 * roots when ../shared/vectors is present.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Vector {
  id: string;
  evidence: string;
  endorsement?: string;
  product?: string;
  verify_at: string;
}

const root = resolve(import.meta.dirname, '..');
const home = process.env['VERITEE_HOME'] ?? join(root, '.veritee');
const env = { ...process.env, VERITEE_HOME: home };
const cli = join(root, 'cli/bin/veritee.js');

function veritee(args: string[]): string {
  try {
    return execFileSync(process.execPath, [cli, ...args], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

function verdictLine(label: string, output: string): string {
  const verdict = JSON.parse(output.trim().split('\n').pop() ?? '{}') as {
    verdict?: string;
    codes?: string[];
    simulated?: boolean;
  };
  return `${(verdict.verdict ?? 'error').toUpperCase().padEnd(8)}${label.padEnd(46)}${(verdict.codes ?? []).join(' ')}\n`;
}

process.stdout.write(`Simulated hardware (dev PKI and evidence in ${home})\n`);
mkdirSync(join(home, 'evidence'), { recursive: true });
const simulated: Array<[string, string[]]> = [
  ['sim-snp-v2.bin', ['snp', '--version', '2']],
  ['sim-snp-v3-genoa.bin', ['snp', '--version', '3', '--product', 'Genoa']],
  ['sim-snp-v5-turin-vlek.bin', ['snp', '--version', '5', '--product', 'Turin', '--vlek']],
  ['sim-nitro.cbor', ['nitro', '--nonce', '00112233445566778899aabbccddeeff']],
];
for (const [file, args] of simulated) {
  const out = join(home, 'evidence', file);
  veritee(['sim', ...args, '--out', out]);
  process.stdout.write(
    verdictLine(
      `${file} (--allow-simulated)`,
      veritee([
        'verify',
        out,
        '--allow-simulated',
        '--offline',
        '--kds-cache',
        join(home, 'kds'),
        '--json',
      ]),
    ),
  );
  process.stdout.write(
    verdictLine(
      `${file} (real roots only)`,
      veritee(['verify', out, '--offline', '--kds-cache', join(home, 'kds'), '--json']),
    ),
  );
}

const vectorsDir = process.env['VERITEE_VECTORS'] ?? join(root, '..', 'shared', 'vectors');
if (!existsSync(join(vectorsDir, 'index.json'))) {
  process.stdout.write(
    `\nNo published vectors at ${vectorsDir} (set VERITEE_VECTORS to verify them too).\n`,
  );
} else {
  const vectors = JSON.parse(readFileSync(join(vectorsDir, 'index.json'), 'utf8')) as Vector[];
  process.stdout.write(
    `\nReal hardware: ${vectors.length} published vectors from ${vectorsDir}, against the real AMD and AWS roots\n`,
  );
  process.stdout.write('(with SMT and no CRL allowed, as these vectors need; debug refused)\n');
  for (const vector of vectors) {
    const args = [
      'verify',
      join(vectorsDir, vector.evidence),
      '--at',
      vector.verify_at,
      '--offline',
      '--kds-cache',
      join(home, 'kds'),
      '--policy',
      join(root, 'scripts', 'vectors-policy.json'),
      '--json',
    ];
    if (vector.endorsement !== undefined)
      args.push('--endorsement', join(vectorsDir, vector.endorsement));
    if (vector.product !== undefined) args.push('--product', vector.product);
    process.stdout.write(verdictLine(vector.id, veritee(args)));
  }
}
