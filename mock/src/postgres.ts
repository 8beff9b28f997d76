/**
 * The PostgreSQL server the tests use: VERITEE_TEST_POSTGRES_URL, which
 * scripts/test-postgres.sh sets for `npm test` when PostgreSQL is installed.
 * Each test gets a database of its own, created for it and dropped after.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const server = process.env['VERITEE_TEST_POSTGRES_URL'];

// CI sets VERITEE_REQUIRE_POSTGRES=1: there a missing server is a failure, not a skip.
if (server === undefined && process.env['VERITEE_REQUIRE_POSTGRES'] === '1')
  throw new Error('VERITEE_REQUIRE_POSTGRES=1 but no PostgreSQL server is available to the tests');

/** Why PostgreSQL tests are skipped here, or false when they run. */
export const POSTGRES_SKIP: string | false =
  server === undefined
    ? 'no PostgreSQL: install it (apt-get install postgresql) or set VERITEE_TEST_POSTGRES_URL'
    : false;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the test server: its URL, and a way to drop it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `veritee_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(server ?? '');
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/** A PostgreSQL server of a test's own, for tests that stop and start it. */
export interface PrivatePostgres {
  /** Connection URL of its `postgres` database, on a Unix socket. */
  readonly url: string;
  /** Stops the server as told (`fast` ends sessions; `immediate` is a crash) and starts it again. */
  restart(mode: 'fast' | 'immediate', downForMs?: number): Promise<void>;
  stop(): void;
}

const serverBinaries = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(a) - Number(b));
  const bin = versions.length === 0 ? undefined : join(root, versions[versions.length - 1]!, 'bin');
  return bin !== undefined && existsSync(join(bin, 'pg_ctl')) ? bin : undefined;
})();

/** Why a private server cannot be started here, or false when it can. */
export const PRIVATE_POSTGRES_SKIP: string | false =
  serverBinaries === undefined
    ? 'no PostgreSQL server binaries (apt-get install postgresql)'
    : false;

/**
 * Starts a throwaway cluster in a temporary directory (as the `postgres` user
 * when run as root, since PostgreSQL refuses root), listening on a socket only.
 */
export function startPrivatePostgres(): PrivatePostgres {
  if (serverBinaries === undefined) throw new Error(String(PRIVATE_POSTGRES_SKIP));
  const dir = mkdtempSync(join(tmpdir(), 'veritee-pg-'));
  const asOwner = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asOwner.length > 0) spawnSync('chown', ['postgres', dir]);
  const run = (tool: string, args: string[]) => {
    const [command, ...rest] = [...asOwner, join(serverBinaries, tool), ...args];
    const result = spawnSync(command!, rest, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
  };
  const port = 20000 + Math.floor(Math.random() * 12000);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '--auth=trust', '-U', 'veritee']);
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-o',
      `-c listen_addresses='' -k ${dir} -p ${port}`,
      'start',
    ]);
  start();
  return {
    url: `postgresql://veritee@localhost/postgres?host=${dir}&port=${port}`,
    async restart(mode, downForMs = 0) {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      await new Promise((resolveWait) => setTimeout(resolveWait, downForMs));
      start();
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
