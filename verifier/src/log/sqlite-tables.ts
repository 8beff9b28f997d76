/**
 * What both connections to a SQLite log do with its tables: the main thread's
 * (reads, and indexing older logs when opened) and the writer thread's
 * (appends).
 */
import type Database from 'better-sqlite3';
import { UpstreamError } from '@veritee/attestations';
import { indexedFields } from './statement-index.js';

/**
 * The stored hash of a perfect subtree.
 * @throws UpstreamError LOG_CORRUPT when the log lacks it
 */
export function perfectNodeReader(
  db: Database.Database,
): (level: number, index: number) => Uint8Array {
  const selectNode = db.prepare<[number, number], { hash: Uint8Array }>(
    'SELECT hash FROM nodes WHERE level = ? AND idx = ?',
  );
  return (level, index) => {
    const row = selectNode.get(level, index);
    if (row === undefined)
      throw new UpstreamError('LOG_CORRUPT', `log lacks node ${level}/${index}`);
    return new Uint8Array(row.hash);
  };
}

/** Adds the entry at `idx` to the statement index (its type, time, model and measurement). */
export function statementIndexer(db: Database.Database): (idx: number, entry: Uint8Array) => void {
  const insertIndex = db.prepare<[number, string, number | null, string | null, string | null]>(
    'INSERT INTO statement_index (idx, typ, iat, model_hash, measurement) VALUES (?, ?, ?, ?, ?)',
  );
  return (idx, entry) => {
    const { typ, iat, modelHash, measurement } = indexedFields(entry);
    insertIndex.run(idx, typ, iat, modelHash, measurement);
  };
}
