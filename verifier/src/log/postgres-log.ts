/**
 * The receipt log on PostgreSQL (pg), for several verifier replicas sharing
 * one log. An append holds the one-row head's lock (SELECT ... FOR UPDATE)
 * from the moment it learns its first position until it commits, so replicas
 * append one after another and never share a position; receipts are
 * acknowledged only after COMMIT (synchronous_commit on, the default).
 */
import pg from 'pg';
import { isVeriteeError, UpstreamError } from '@veritee/attestations';
import {
  consistencyProofFrom,
  inclusionProofFrom,
  subtreeHashFrom,
} from '@veritee/attestations/merkle';
import {
  assertSchemaVersion,
  LOG_SCHEMA_VERSION,
  type AppendResult,
  type ReceiptLog,
} from './receipt-log.js';
import {
  appendResult,
  nodesCompletedByAppend,
  nodesReadByAppend,
  withStoredNodes,
  type NodeKey,
  type NodeRow,
} from './tree-nodes.js';
import { indexedFields, type FoundStatement } from './statement-index.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS veritee_schema (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS veritee_log_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
  );
  INSERT INTO veritee_log_head (id, size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
  CREATE TABLE IF NOT EXISTS veritee_leaves (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL);
  CREATE TABLE IF NOT EXISTS veritee_receipts (
    id TEXT PRIMARY KEY,
    idx BIGINT NOT NULL UNIQUE REFERENCES veritee_leaves (idx),
    jws TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS veritee_nodes (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
  );
  CREATE TABLE IF NOT EXISTS veritee_statement_index (
    idx BIGINT PRIMARY KEY REFERENCES veritee_leaves (idx),
    typ TEXT NOT NULL,
    iat BIGINT,
    model_hash TEXT,
    measurement TEXT
  );
  CREATE INDEX IF NOT EXISTS veritee_statement_index_model ON veritee_statement_index (model_hash, idx);
  CREATE INDEX IF NOT EXISTS veritee_statement_index_measurement ON veritee_statement_index (measurement, idx);
  CREATE INDEX IF NOT EXISTS veritee_statement_index_iat ON veritee_statement_index (iat, idx);
`;

/** Indexes the statements of `rows` (idx, entry) in one statement. */
async function insertIndex(
  client: pg.ClientBase,
  rows: ReadonlyArray<readonly [number, Uint8Array]>,
): Promise<void> {
  if (rows.length === 0) return;
  const fields = rows.map(([, entry]) => indexedFields(entry));
  await client.query(
    'INSERT INTO veritee_statement_index (idx, typ, iat, model_hash, measurement) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[]) ON CONFLICT (idx) DO NOTHING',
    [
      rows.map(([idx]) => idx),
      fields.map((field) => field.typ),
      fields.map((field) => field.iat),
      fields.map((field) => field.modelHash),
      fields.map((field) => field.measurement),
    ],
  );
}

interface FoundRow {
  idx: string;
  id: string;
  jws: string;
  typ: string;
  iat: string | null;
}

const foundStatement = (row: FoundRow): FoundStatement => ({
  index: Number(row.idx),
  id: row.id,
  typ: row.typ,
  iat: row.iat === null ? null : Number(row.iat),
  receipt: row.jws,
});

// Replicas starting together must not race to create the schema.
const SCHEMA_LOCK = 0x7665726974; // "verit"

function missing(level: number, index: number): never {
  throw new UpstreamError('LOG_CORRUPT', `log lacks node ${level}/${index}`);
}

function unavailable(error: unknown): never {
  // Our own errors (a refused seal, a corrupt log) pass through; the database's become LOG_UNAVAILABLE.
  if (isVeriteeError(error) || error instanceof RangeError) throw error;
  throw new UpstreamError('LOG_UNAVAILABLE', 'the PostgreSQL log failed', { cause: error });
}

async function fetchNodes(
  client: pg.Pool | pg.PoolClient,
  keys: readonly NodeKey[],
): Promise<NodeRow[]> {
  if (keys.length === 0) return [];
  const result = await client.query<{ level: number; idx: string; hash: Buffer }>(
    `SELECT n.level, n.idx, n.hash FROM veritee_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS k (level, idx)
         ON n.level = k.level AND n.idx = k.idx`,
    [keys.map(([level]) => level), keys.map(([, index]) => index)],
  );
  return result.rows.map((row) => [row.level, Number(row.idx), new Uint8Array(row.hash)]);
}

/**
 * Opens (and creates, if need be) the log in the database `connectionString` names.
 * @throws UpstreamError LOG_UNAVAILABLE when the database cannot be reached
 */
export async function openPostgresLog(
  connectionString: string,
  options: { readonly maxConnections?: number } = {},
): Promise<ReceiptLog> {
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 8 });
  // An idle client losing its connection must not crash the verifier; the next query reconnects.
  pool.on('error', () => undefined);
  const target = new URL(connectionString);
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
      try {
        await client.query(SCHEMA);
        // A database from before versioning has no row: its schema is version 1.
        const { rows } = await client.query<{ version: number }>(
          'INSERT INTO veritee_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = veritee_schema.version RETURNING version',
          [LOG_SCHEMA_VERSION],
        );
        assertSchemaVersion(
          rows[0]?.version ?? LOG_SCHEMA_VERSION,
          `PostgreSQL ${target.pathname}`,
        );
        // Entries appended before the index existed are indexed now, a batch at a time.
        for (;;) {
          const { rows: unindexed } = await client.query<{ idx: string; data: Buffer }>(
            `SELECT l.idx, l.data FROM veritee_leaves l
             WHERE l.idx > (SELECT COALESCE(MAX(idx), -1) FROM veritee_statement_index)
             ORDER BY l.idx LIMIT 1000`,
          );
          if (unindexed.length === 0) break;
          await insertIndex(
            client,
            unindexed.map((row) => [Number(row.idx), new Uint8Array(row.data)] as const),
          );
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
      }
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    unavailable(error);
  }

  const subtreeWith =
    (perfect: (level: number, index: number) => Uint8Array) => (start: number, end: number) =>
      subtreeHashFrom(perfect, start, end);
  const compute = <T>(
    run: (subtree: (start: number, end: number) => Uint8Array) => T,
  ): Promise<T> =>
    withStoredNodes(
      (perfect) => run(subtreeWith(perfect)),
      (keys) => fetchNodes(pool, keys),
      missing,
    ).catch(unavailable);

  return {
    description: `PostgreSQL ${target.hostname || target.searchParams.get('host') || 'localhost'}${target.pathname}`,
    async size() {
      const result = await pool
        .query<{ size: string }>('SELECT size FROM veritee_log_head WHERE id = 1')
        .catch(unavailable);
      return Number(result.rows[0]?.size ?? 0);
    },
    async append(count, seal): Promise<AppendResult> {
      const client = await pool.connect().catch(unavailable);
      try {
        await client.query('BEGIN');
        const head = await client.query<{ size: string }>(
          'SELECT size FROM veritee_log_head WHERE id = 1 FOR UPDATE',
        );
        const first = Number(head.rows[0]?.size ?? 0);
        const records = await seal(first);
        if (records.length !== count)
          throw new RangeError(`sealed ${records.length} records; expected ${count}`);
        const stored = await fetchNodes(client, nodesReadByAppend(first, count));
        const storedMap = new Map(
          stored.map(([level, index, hash]) => [`${level}/${index}`, hash]),
        );
        const rows = nodesCompletedByAppend(
          first,
          records.map((record) => record.entry),
          (level, index) => storedMap.get(`${level}/${index}`) ?? missing(level, index),
        );
        const indexes = records.map((_, offset) => first + offset);
        await client.query(
          'INSERT INTO veritee_leaves (idx, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])',
          [indexes, records.map((record) => Buffer.from(record.entry))],
        );
        await client.query(
          'INSERT INTO veritee_receipts (id, idx, jws) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])',
          [records.map((record) => record.id), indexes, records.map((record) => record.receipt)],
        );
        await client.query(
          'INSERT INTO veritee_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])',
          [
            rows.map(([level]) => level),
            rows.map(([, index]) => index),
            rows.map(([, , hash]) => Buffer.from(hash)),
          ],
        );
        await insertIndex(
          client,
          records.map((record, offset) => [first + offset, record.entry] as const),
        );
        await client.query('UPDATE veritee_log_head SET size = $1 WHERE id = 1', [first + count]);
        await client.query('COMMIT');
        return appendResult(rows);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A duplicate receipt id is the caller's error, not the database's.
        if ((error as { code?: string }).code === '23505') throw error;
        return unavailable(error);
      } finally {
        client.release();
      }
    },
    async entry(index) {
      const result = await pool
        .query<{ data: Buffer }>('SELECT data FROM veritee_leaves WHERE idx = $1', [index])
        .catch(unavailable);
      const row = result.rows[0];
      return row === undefined ? undefined : new Uint8Array(row.data);
    },
    async entries(start, count) {
      const result = await pool
        .query<{ data: Buffer }>(
          'SELECT data FROM veritee_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx',
          [start, start + count],
        )
        .catch(unavailable);
      return result.rows.map((row) => new Uint8Array(row.data));
    },
    async hashes(level, start, count) {
      const result = await pool
        .query<{ hash: Buffer }>(
          'SELECT hash FROM veritee_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
          [level, start, start + count],
        )
        .catch(unavailable);
      return result.rows.map((row) => new Uint8Array(row.hash));
    },
    async receipt(id) {
      const result = await pool
        .query<{ jws: string }>('SELECT jws FROM veritee_receipts WHERE id = $1', [id])
        .catch(unavailable);
      return result.rows[0]?.jws;
    },
    async statements(start, count) {
      const result = await pool
        .query<FoundRow>(
          `SELECT r.idx, r.id, r.jws, s.typ, s.iat FROM veritee_receipts r
           JOIN veritee_statement_index s ON s.idx = r.idx
           WHERE r.idx >= $1 AND r.idx < $2 ORDER BY r.idx`,
          [start, start + count],
        )
        .catch(unavailable);
      return result.rows.map(foundStatement);
    },
    async searchStatements(query) {
      const result = await pool
        .query<FoundRow>(
          `SELECT r.idx, r.id, r.jws, s.typ, s.iat FROM veritee_statement_index s
           JOIN veritee_receipts r ON r.idx = s.idx
           WHERE ($1::text IS NULL OR s.model_hash = $1) AND ($2::text IS NULL OR s.measurement = $2)
             AND ($3::text IS NULL OR s.typ = $3) AND ($4::bigint IS NULL OR s.iat >= $4)
             AND ($5::bigint IS NULL OR s.iat < $5) AND ($6::bigint IS NULL OR s.idx < $6)
           ORDER BY s.idx DESC LIMIT $7`,
          [
            query.modelHash ?? null,
            query.measurement ?? null,
            query.typ ?? null,
            query.since ?? null,
            query.until ?? null,
            query.before ?? null,
            query.limit,
          ],
        )
        .catch(unavailable);
      return result.rows.map(foundStatement);
    },
    async findReceipts(prefix) {
      const result = await pool
        .query<{ id: string; idx: string; jws: string }>(
          'SELECT id, idx, jws FROM veritee_receipts WHERE starts_with(id, $1) ORDER BY idx',
          [prefix],
        )
        .catch(unavailable);
      return result.rows.map((row) => ({ id: row.id, index: Number(row.idx), receipt: row.jws }));
    },
    root: (treeSize) => compute((subtree) => subtree(0, treeSize)),
    inclusionProof: (index, treeSize) =>
      compute((subtree) => inclusionProofFrom(subtree, index, treeSize)),
    consistencyProof: (first, second) =>
      compute((subtree) => consistencyProofFrom(subtree, first, second)),
    close: () => pool.end(),
  };
}
