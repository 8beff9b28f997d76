/**
 * The append-only receipt log on SQLite (better-sqlite3): leaves and every
 * completed perfect subtree hash are stored, so roots and RFC 9162 inclusion
 * and consistency proofs cost O(log² n) lookups at any size. Appends run in
 * one transaction with synchronous=FULL under WAL: once `append` returns, the
 * entry survives a crash, and only then is a receipt acknowledged.
 */
import Database from 'better-sqlite3';
import {
  consistencyProofFrom,
  inclusionProofFrom,
  leafHash,
  nodeHash,
  subtreeHashFrom,
  UpstreamError,
} from '@veritee/attestations';

export interface LogEntry {
  readonly index: number;
  readonly leafHash: Uint8Array;
}

/** A log entry and the signed receipt it belongs to, stored in the same transaction. */
export interface ReceiptRecord {
  readonly entry: Uint8Array;
  readonly id: string;
  readonly receipt: string;
}

export interface ReceiptLog {
  size(): number;
  /** Appends records durably and atomically, in order; returns their positions. */
  append(records: readonly ReceiptRecord[]): LogEntry[];
  entry(index: number): Uint8Array | undefined;
  /** The signed receipt (compact JWS) with this id. */
  receipt(id: string): string | undefined;
  /** MTH of the first `size` leaves. */
  root(size: number): Uint8Array;
  inclusionProof(index: number, size: number): Uint8Array[];
  consistencyProof(first: number, second: number): Uint8Array[];
  close(): void;
}

export function openSqliteLog(path: string): ReceiptLog {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS leaves (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS receipts (id TEXT PRIMARY KEY, idx INTEGER NOT NULL UNIQUE REFERENCES leaves (idx), jws TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
  `);
  const countLeaves = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM leaves');
  const insertLeaf = db.prepare<[number, Uint8Array]>(
    'INSERT INTO leaves (idx, data) VALUES (?, ?)',
  );
  const selectLeaf = db.prepare<[number], { data: Uint8Array }>(
    'SELECT data FROM leaves WHERE idx = ?',
  );
  const insertReceipt = db.prepare<[string, number, string]>(
    'INSERT INTO receipts (id, idx, jws) VALUES (?, ?, ?)',
  );
  const selectReceipt = db.prepare<[string], { jws: string }>(
    'SELECT jws FROM receipts WHERE id = ?',
  );
  const insertNode = db.prepare<[number, number, Uint8Array]>(
    'INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)',
  );
  const selectNode = db.prepare<[number, number], { hash: Uint8Array }>(
    'SELECT hash FROM nodes WHERE level = ? AND idx = ?',
  );

  let size = countLeaves.get()?.n ?? 0;

  const perfect = (level: number, index: number): Uint8Array => {
    const row = selectNode.get(level, index);
    if (row === undefined)
      throw new UpstreamError('LOG_CORRUPT', `log lacks node ${level}/${index}`);
    return new Uint8Array(row.hash);
  };
  const subtree = (start: number, end: number) => subtreeHashFrom(perfect, start, end);

  const appendAll = db.transaction((records: readonly ReceiptRecord[]): LogEntry[] => {
    const written: LogEntry[] = [];
    for (const record of records) {
      const index = size;
      const hash = leafHash(record.entry);
      insertLeaf.run(index, record.entry);
      insertReceipt.run(record.id, index, record.receipt);
      insertNode.run(0, index, hash);
      // Each leaf that completes a pair completes a parent, up the tree.
      let level = 0;
      let position = index;
      let current = hash;
      while (position % 2 === 1) {
        current = nodeHash(perfect(level, position - 1), current);
        level += 1;
        position = (position - 1) / 2;
        insertNode.run(level, position, current);
      }
      size += 1;
      written.push({ index, leafHash: hash });
    }
    return written;
  });

  return {
    size: () => size,
    append: (records) => {
      const before = size;
      try {
        return appendAll(records);
      } catch (error) {
        size = before;
        throw error;
      }
    },
    entry: (index) => {
      const row = selectLeaf.get(index);
      return row === undefined ? undefined : new Uint8Array(row.data);
    },
    receipt: (id) => selectReceipt.get(id)?.jws,
    root: (treeSize) => subtree(0, treeSize),
    inclusionProof: (index, treeSize) => inclusionProofFrom(subtree, index, treeSize),
    consistencyProof: (first, second) => consistencyProofFrom(subtree, first, second),
    close: () => db.close(),
  };
}
