/**
 * The collateral cache on the log's PostgreSQL database, so every verifier
 * replica shares one copy of what AMD KDS answered: a fleet of replicas makes
 * one KDS request per chip and TCB, not one per replica. What it holds is
 * public and verified against the pinned AMD roots whenever it is used.
 */
import pg from 'pg';
import { UpstreamError } from '@veritee/attestations';
import type { CollateralStore } from '@veritee/kds';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS veritee_collateral (
    path TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
`;

export async function openPostgresCollateralStore(
  connectionString: string,
): Promise<CollateralStore & { close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString, max: 2 });
  pool.on('error', () => undefined);
  const unavailable = (error: unknown): never => {
    throw new UpstreamError('LOG_UNAVAILABLE', 'the PostgreSQL collateral cache failed', {
      cause: error,
    });
  };
  await pool.query(SCHEMA).catch(async (error: unknown) => {
    await pool.end();
    unavailable(error);
  });
  return {
    async get(path) {
      const { rows } = await pool
        .query<{ bytes: Buffer }>('SELECT bytes FROM veritee_collateral WHERE path = $1', [path])
        .catch(unavailable);
      return rows[0] === undefined ? undefined : new Uint8Array(rows[0].bytes);
    },
    async put(path, bytes) {
      await pool
        .query(
          `INSERT INTO veritee_collateral (path, bytes) VALUES ($1, $2)
             ON CONFLICT (path) DO UPDATE SET bytes = EXCLUDED.bytes, stored_at = now()`,
          [path, Buffer.from(bytes)],
        )
        .catch(unavailable);
    },
    close: () => pool.end(),
  };
}
