/**
 * The receipt log on SQLite (better-sqlite3), the embedded default for one
 * verifier process. Appends run in one transaction with synchronous=FULL under
 * WAL: once `append` resolves, the entries survive a crash, and only then are
 * receipts acknowledged. One process owns the file: appends are serialized in
 * that process, and committed by a writer thread (sqlite-writer.ts) so that
 * the event loop runs on while each group is made durable.
 */
import { resolve as resolvePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { RequestError, UpstreamError } from '@veritee/attestations';
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
import type { FoundStatement } from './statement-index.js';
import { perfectNodeReader, statementIndexer } from './sqlite-tables.js';
import { workerEntry } from '../service/worker-entry.js';
import type { WriterReply, WriterRequest } from './sqlite-writer.js';
import { appendResult } from './tree-nodes.js';

type WriterCall =
  | Omit<Extract<WriterRequest, { kind: 'append' }>, 'id'>
  | Omit<Extract<WriterRequest, { kind: 'close' }>, 'id'>;

/**
 * The process's one writer thread, started on first use. It keeps the process
 * alive only while a write is in flight; a thread that dies fails what it held
 * (nothing of that was acknowledged) and the next write starts another.
 */
const writerThread = (() => {
  let worker: Worker | undefined;
  const waiting = new Map<number, (reply: WriterReply) => void>();
  let nextId = 0;
  const start = () => {
    const entry = workerEntry('./sqlite-writer', import.meta.url);
    const started = new Worker(entry.filename, {
      workerData: { module: entry.module },
      execArgv: process.execArgv,
    });
    started.on('message', (reply: WriterReply) => {
      const settle = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (waiting.size === 0) started.unref();
      settle?.(reply);
    });
    const fail = (message: string) => {
      worker = undefined;
      for (const [id, settle] of waiting) settle({ id, error: { message, threadFailed: true } });
      waiting.clear();
    };
    started.on('error', (error) => fail(`the log's writer thread failed: ${error.message}`));
    started.on('exit', () => fail("the log's writer thread stopped"));
    started.unref();
    return started;
  };
  return (call: WriterCall): Promise<WriterReply> => {
    worker ??= start();
    const id = nextId++;
    const thread = worker;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      thread.ref();
      thread.postMessage({ ...call, id });
    });
  };
})();

/**
 * Runs one append transaction (which SQLite rolls back whole when it fails),
 * naming a full disk or a failing one: nothing was acknowledged, and the
 * same request can be retried once the operator has made room.
 * @throws RequestError 503 LOG_STORAGE_FULL or LOG_UNAVAILABLE
 */
function writeOrRefuse<T>(write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) throw error;
    if (code === 'SQLITE_FULL')
      throw new RequestError(
        503,
        'LOG_STORAGE_FULL',
        "the log's disk is full; nothing was appended",
        {
          retryAfterSeconds: 30,
        },
      );
    throw new RequestError(
      503,
      'LOG_UNAVAILABLE',
      `the SQLite log failed (${code}); nothing was appended`,
      {
        retryAfterSeconds: 5,
      },
    );
  }
}

interface SearchParameters {
  model: string | null;
  measurement: string | null;
  typ: string | null;
  since: number | null;
  until: number | null;
  before: number | null;
  limit: number;
}

interface FoundRow {
  idx: number;
  id: string;
  jws: string;
  typ: string;
  iat: number | null;
}

const foundStatement = (row: FoundRow): FoundStatement => ({
  index: row.idx,
  id: row.id,
  typ: row.typ,
  iat: row.iat,
  receipt: row.jws,
});

/** A synchronous computation as a promise that rejects with what it throws. */
function settle<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(compute()));
}

export function openSqliteLog(path: string): ReceiptLog {
  const file = resolvePath(path);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // user_version 0 is a new file or one from before versioning, whose schema is version 1.
  try {
    assertSchemaVersion(db.pragma('user_version', { simple: true }) as number, `SQLite ${path}`);
  } catch (error) {
    db.close();
    throw error;
  }
  db.exec(`
    CREATE TABLE IF NOT EXISTS leaves (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS receipts (id TEXT PRIMARY KEY, idx INTEGER NOT NULL UNIQUE REFERENCES leaves (idx), jws TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS statement_index (idx INTEGER PRIMARY KEY REFERENCES leaves (idx), typ TEXT NOT NULL, iat INTEGER, model_hash TEXT, measurement TEXT);
    CREATE INDEX IF NOT EXISTS statement_index_model ON statement_index (model_hash, idx);
    CREATE INDEX IF NOT EXISTS statement_index_measurement ON statement_index (measurement, idx);
    CREATE INDEX IF NOT EXISTS statement_index_iat ON statement_index (iat, idx);
    PRAGMA user_version = ${LOG_SCHEMA_VERSION};
  `);
  const countLeaves = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM leaves');
  const selectLeaf = db.prepare<[number], { data: Uint8Array }>(
    'SELECT data FROM leaves WHERE idx = ?',
  );
  const selectLeaves = db.prepare<[number, number], { data: Uint8Array }>(
    'SELECT data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
  );
  const selectNodes = db.prepare<[number, number, number], { hash: Uint8Array }>(
    'SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx',
  );
  const selectReceipt = db.prepare<[string], { jws: string }>(
    'SELECT jws FROM receipts WHERE id = ?',
  );
  const selectReceiptsByPrefix = db.prepare<
    [string, string],
    { id: string; idx: number; jws: string }
  >('SELECT id, idx, jws FROM receipts WHERE id >= ? AND id < ? ORDER BY idx');
  const index = statementIndexer(db);
  // Logs written before the index existed (or by a verifier without it) are indexed on open.
  const unindexed = db.prepare<[], { idx: number; data: Uint8Array }>(
    `SELECT idx, data FROM leaves WHERE idx > (SELECT COALESCE(MAX(idx), -1) FROM statement_index)
     ORDER BY idx LIMIT 1000`,
  );
  const indexBatch = db.transaction(() => {
    const rows = unindexed.all();
    for (const row of rows) index(row.idx, new Uint8Array(row.data));
    return rows.length;
  });
  while (indexBatch() > 0);
  const selectStatements = db.prepare<[number, number], FoundRow>(
    `SELECT r.idx, r.id, r.jws, s.typ, s.iat FROM receipts r JOIN statement_index s ON s.idx = r.idx
     WHERE r.idx >= ? AND r.idx < ? ORDER BY r.idx`,
  );
  const searchStatementsQuery = db.prepare<[SearchParameters], FoundRow>(
    `SELECT r.idx, r.id, r.jws, s.typ, s.iat FROM statement_index s JOIN receipts r ON r.idx = s.idx
     WHERE (@model IS NULL OR s.model_hash = @model) AND (@measurement IS NULL OR s.measurement = @measurement)
       AND (@typ IS NULL OR s.typ = @typ) AND (@since IS NULL OR s.iat >= @since)
       AND (@until IS NULL OR s.iat < @until) AND (@before IS NULL OR s.idx < @before)
     ORDER BY s.idx DESC LIMIT @limit`,
  );

  let size = countLeaves.get()?.n ?? 0;
  // Appends wait for the one before: the position handed to `seal` must stay free.
  let tail: Promise<unknown> = Promise.resolve();

  const perfect = perfectNodeReader(db);
  const subtree = (start: number, end: number) => subtreeHashFrom(perfect, start, end);

  return {
    description: `SQLite ${path}`,
    size: () => Promise.resolve(size),
    append(count, seal) {
      const result = tail.then(async (): Promise<AppendResult> => {
        const first = size;
        const records = await seal(first);
        if (records.length !== count)
          throw new RangeError(`sealed ${records.length} records; expected ${count}`);
        const reply = await writerThread({ kind: 'append', path: file, first, records });
        const nodes = writeOrRefuse(() => {
          if ('error' in reply && reply.error.threadFailed === true)
            throw new RequestError(
              503,
              'LOG_UNAVAILABLE',
              `${reply.error.message}; nothing was appended`,
              { retryAfterSeconds: 5 },
            );
          // The thread's typed failure, typed again on this side (SQLite's own codes are mapped below).
          if ('error' in reply && reply.error.code === 'LOG_CORRUPT')
            throw new UpstreamError(reply.error.code, reply.error.message);
          if ('error' in reply)
            throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
          return reply.nodes;
        });
        size = first + count;
        return appendResult(nodes);
      });
      tail = result.catch(() => undefined);
      return result;
    },
    entry: (index) => {
      const row = selectLeaf.get(index);
      return Promise.resolve(row === undefined ? undefined : new Uint8Array(row.data));
    },
    entries: (start, count) =>
      settle(() => selectLeaves.all(start, start + count).map((row) => new Uint8Array(row.data))),
    hashes: (level, start, count) =>
      settle(() =>
        selectNodes.all(level, start, start + count).map((row) => new Uint8Array(row.hash)),
      ),
    receipt: (id) => Promise.resolve(selectReceipt.get(id)?.jws),
    statements: (start, count) =>
      settle(() => selectStatements.all(start, start + count).map(foundStatement)),
    searchStatements: (query) =>
      settle(() =>
        searchStatementsQuery
          .all({
            model: query.modelHash ?? null,
            measurement: query.measurement ?? null,
            typ: query.typ ?? null,
            since: query.since ?? null,
            until: query.until ?? null,
            before: query.before ?? null,
            limit: query.limit,
          })
          .map(foundStatement),
      ),
    // Ids are ASCII: every id with the prefix sorts between it and the prefix followed by U+FFFF.
    findReceipts: (prefix) =>
      Promise.resolve(
        selectReceiptsByPrefix
          .all(prefix, `${prefix}\uffff`)
          .map((row) => ({ id: row.id, index: row.idx, receipt: row.jws })),
      ),
    // Errors (a corrupt log) reject the promise rather than throw.
    root: (treeSize) => settle(() => subtree(0, treeSize)),
    inclusionProof: (index, treeSize) => settle(() => inclusionProofFrom(subtree, index, treeSize)),
    consistencyProof: (first, second) => settle(() => consistencyProofFrom(subtree, first, second)),
    close: async () => {
      await tail;
      await writerThread({ kind: 'close', path: file });
      db.close();
    },
  };
}
