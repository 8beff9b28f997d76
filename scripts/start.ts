/**
 * What `npm start` runs until the services exist: the built `veritee verify`
 * on every published real-hardware vector, at each vector's verification time,
 * printing one verdict line each.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Vector {
  id: string;
  evidence: string;
  endorsement?: string;
  product?: string;
  verify_at: string;
}

const root = resolve(import.meta.dirname, '..');
const vectorsDir = process.env['VERITEE_VECTORS'] ?? join(root, '..', 'shared', 'vectors');
if (!existsSync(join(vectorsDir, 'index.json'))) {
  process.stderr.write(
    `no vectors at ${vectorsDir}; set VERITEE_VECTORS to a folder holding index.json\n`,
  );
  process.exit(1);
}
const vectors = JSON.parse(readFileSync(join(vectorsDir, 'index.json'), 'utf8')) as Vector[];
process.stdout.write(
  `Verifying ${vectors.length} published vectors from ${vectorsDir} against the real AMD and AWS roots\n`,
);
process.stdout.write(
  '(SNP with SMT and without a CRL allowed, as these vectors need; debug refused)\n\n',
);
const policy = join(root, 'scripts', 'start-policy.json');
for (const vector of vectors) {
  const args = [
    join(root, 'cli/bin/veritee.js'),
    'verify',
    join(vectorsDir, vector.evidence),
    '--at',
    vector.verify_at,
    '--offline',
    '--kds-cache',
    join(root, '.veritee', 'kds'),
    '--policy',
    policy,
    '--json',
  ];
  if (vector.endorsement !== undefined)
    args.push('--endorsement', join(vectorsDir, vector.endorsement));
  if (vector.product !== undefined) args.push('--product', vector.product);
  let output: string;
  try {
    output = execFileSync(process.execPath, args, { encoding: 'utf8' });
  } catch (error) {
    output = (error as { stdout: string }).stdout;
  }
  const verdict = JSON.parse(output.trim().split('\n').pop() ?? '{}') as {
    verdict: string;
    codes: string[];
  };
  process.stdout.write(
    `${verdict.verdict.toUpperCase().padEnd(8)}${vector.id.padEnd(46)}${verdict.codes.join(' ')}\n`,
  );
}
