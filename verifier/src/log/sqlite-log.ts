/**
 * The receipt log on SQLite (better-sqlite3), the embedded default for one
 * verifier process. Appends run in one transaction with synchronous=FULL under
 * WAL: once `append` resolves, the entries survive a crash, and only then are
 * receipts acknowledged. One process owns the file: appends are serialized in
 * that process.
 */
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
  type LogEntry,
  type ReceiptLog,
  type ReceiptRecord,
} from './receipt-log.js';
import { nodesCompletedByAppend } from './tree-nodes.js';

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

/** A synchronous computation as a promise that rejects with what it throws. */
function settle<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(compute()));
}

export function openSqliteLog(path: string): ReceiptLog {
  const db = new Database(path);
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
    PRAGMA user_version = ${LOG_SCHEMA_VERSION};
  `);
  const countLeaves = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM leaves');
  const insertLeaf = db.prepare<[number, Uint8Array]>(
    'INSERT INTO leaves (idx, data) VALUES (?, ?)',
  );
  const selectLeaf = db.prepare<[number], { data: Uint8Array }>(
    'SELECT data FROM leaves WHERE idx = ?',
  );
  const selectLeaves = db.prepare<[number, number], { data: Uint8Array }>(
    'SELECT data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
  );
  const selectNodes = db.prepare<[number, number, number], { hash: Uint8Array }>(
    'SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx',
  );
  const insertReceipt = db.prepare<[string, number, string]>(
    'INSERT INTO receipts (id, idx, jws) VALUES (?, ?, ?)',
  );
  const selectReceipt = db.prepare<[string], { jws: string }>(
    'SELECT jws FROM receipts WHERE id = ?',
  );
  const selectReceiptsByPrefix = db.prepare<
    [string, string],
    { id: string; idx: number; jws: string }
  >('SELECT id, idx, jws FROM receipts WHERE id >= ? AND id < ? ORDER BY idx');
  const insertNode = db.prepare<[number, number, Uint8Array]>(
    'INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)',
  );
  const selectNode = db.prepare<[number, number], { hash: Uint8Array }>(
    'SELECT hash FROM nodes WHERE level = ? AND idx = ?',
  );

  let size = countLeaves.get()?.n ?? 0;
  // Appends wait for the one before: the position handed to `seal` must stay free.
  let tail: Promise<unknown> = Promise.resolve();

  const perfect = (level: number, index: number): Uint8Array => {
    const row = selectNode.get(level, index);
    if (row === undefined)
      throw new UpstreamError('LOG_CORRUPT', `log lacks node ${level}/${index}`);
    return new Uint8Array(row.hash);
  };
  const subtree = (start: number, end: number) => subtreeHashFrom(perfect, start, end);

  const write = db.transaction((first: number, records: readonly ReceiptRecord[]) => {
    records.forEach((record, offset) => {
      insertLeaf.run(first + offset, record.entry);
      insertReceipt.run(record.id, first + offset, record.receipt);
    });
    const rows = nodesCompletedByAppend(
      first,
      records.map((record) => record.entry),
      perfect,
    );
    for (const [level, index, hash] of rows) insertNode.run(level, index, hash);
    return rows.filter(([level]) => level === 0);
  });

  return {
    description: `SQLite ${path}`,
    size: () => Promise.resolve(size),
    append(count, seal) {
      const result = tail.then(async (): Promise<LogEntry[]> => {
        const first = size;
        const records = await seal(first);
        if (records.length !== count)
          throw new RangeError(`sealed ${records.length} records; expected ${count}`);
        const leaves = writeOrRefuse(() => write(first, records));
        size = first + count;
        return leaves.map(([, index, hash]) => ({ index, leafHash: hash }));
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
      db.close();
    },
  };
}
