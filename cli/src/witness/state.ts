/**
 * The witness's memory: per log origin, the size and root it last cosigned,
 * in SQLite. Checking the old size and recording the new tree happen in one
 * transaction, so two requests racing cannot roll the log back
 * (c2sp.org/tlog-witness, add-checkpoint).
 */
import Database from 'better-sqlite3';
import type { WitnessAnswer, WitnessedTree } from './add-checkpoint.js';

export interface WitnessState {
  lastCosigned(origin: string): WitnessedTree | undefined;
  /** Runs `decide` and stores what it says to record, atomically. */
  decide(decide: () => WitnessAnswer): WitnessAnswer;
  close(): void;
}

export function openWitnessState(path: string): WitnessState {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS cosigned (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL)',
  );
  const select = db.prepare<[string], { size: number; root: Uint8Array }>(
    'SELECT size, root FROM cosigned WHERE origin = ?',
  );
  const upsert = db.prepare<[string, number, Uint8Array]>(
    'INSERT INTO cosigned (origin, size, root) VALUES (?, ?, ?) ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root',
  );
  const lastCosigned = (origin: string) => {
    const row = select.get(origin);
    return row === undefined ? undefined : { size: row.size, rootHash: new Uint8Array(row.root) };
  };
  const decide = db.transaction((run: () => WitnessAnswer) => {
    const answer = run();
    if (answer.record !== undefined)
      upsert.run(answer.record.origin, answer.record.tree.size, answer.record.tree.rootHash);
    return answer;
  });
  return { lastCosigned, decide: (run) => decide(run), close: () => db.close() };
}
