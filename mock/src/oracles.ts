/**
 * Implementations we did not write, run as oracles: Go's golang.org/x/mod
 * (sumdb/note, sumdb/tlog) through mock/oracles/tlog.go. Debian ships both
 * (golang-go, golang-golang-x-mod-dev); .ci/run installs them, and sets
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

if (!goFound && process.env['VERITEE_REQUIRE_ORACLES'] === '1')
  throw new Error('VERITEE_REQUIRE_ORACLES=1 but Go or golang.org/x/mod is missing');

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
