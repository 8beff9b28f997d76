/**
 * Implementations we did not write, run as oracles: Go's golang.org/x/mod
 * (sumdb/note, sumdb/tlog) through mock/oracles/tlog.go, and python3-jwcrypto
 * through mock/oracles/ear.py. Debian ships them (golang-go,
 * golang-golang-x-mod-dev, python3-jwcrypto); .ci/run installs them, and sets
 * VERITEE_REQUIRE_ORACLES=1 so that a missing one fails rather than skips.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GOPATH = '/usr/share/gocode';
const TLOG_ORACLE = fileURLToPath(new URL('../oracles/tlog.go', import.meta.url));

const goFound =
  spawnSync('go', ['version'], { encoding: 'utf8' }).status === 0 &&
  existsSync(join(GOPATH, 'src/golang.org/x/mod/sumdb/note'));

// Debian's own python3, which sees Debian's python3-jwcrypto (a python3 earlier on PATH may not).
const DEBIAN_PYTHON = '/usr/bin/python3';
const jwcryptoFound =
  spawnSync(DEBIAN_PYTHON, ['-c', 'import jwcrypto'], { encoding: 'utf8' }).status === 0;

if ((!goFound || !jwcryptoFound) && process.env['VERITEE_REQUIRE_ORACLES'] === '1')
  throw new Error(
    'VERITEE_REQUIRE_ORACLES=1 but Go with golang.org/x/mod, or python3-jwcrypto, is missing',
  );

/** Why the python3-jwcrypto oracle tests are skipped here, or false when they run. */
export const JWCRYPTO_ORACLE_SKIP: string | false = jwcryptoFound
  ? false
  : 'no python3-jwcrypto (apt-get install python3-jwcrypto)';

/** Checks an attestation result with python3-jwcrypto (mock/oracles/ear.py). */
export function jwcryptoEarOracle(request: {
  jwt: string;
  jwks: unknown;
  nonce?: string;
}): Record<string, unknown> {
  const result = spawnSync(
    DEBIAN_PYTHON,
    [fileURLToPath(new URL('../oracles/ear.py', import.meta.url))],
    {
      input: JSON.stringify(request),
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`the jwcrypto oracle failed: ${result.stderr}`);
  const answer = JSON.parse(result.stdout) as Record<string, unknown>;
  if (typeof answer['error'] === 'string') throw new Error(`jwcrypto: ${answer['error']}`);
  return answer;
}

/** Why the Go oracle tests are skipped here, or false when they run. */
export const GO_ORACLE_SKIP: string | false = goFound
  ? false
  : 'no Go toolchain with golang.org/x/mod (apt-get install golang-go golang-golang-x-mod-dev)';

/** Runs one request through the Go tlog oracle; its answer, or an Error with what Go said. */
export async function goTlogOracle<T = Record<string, unknown>>(
  request: Record<string, unknown>,
): Promise<T> {
  const cache = join(tmpdir(), 'veritee-go-cache');
  mkdirSync(cache, { recursive: true });
  const child = spawn('go', ['run', TLOG_ORACLE], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: cache, GOFLAGS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(JSON.stringify(request));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the Go oracle failed (${code}): ${stderr.trim()}`);
  const answer = JSON.parse(stdout) as T & { error?: string };
  if (answer.error !== undefined) throw new Error(`Go: ${answer.error}`);
  return answer;
}
