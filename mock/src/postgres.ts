/**
 * The PostgreSQL server the tests use: VERITEE_TEST_POSTGRES_URL, which
 * scripts/test-postgres.sh sets for `npm test` when PostgreSQL is installed.
 * Each test gets a database of its own, created for it and dropped after.
 */
import { randomBytes } from 'node:crypto';
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
