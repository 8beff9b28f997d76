/** The SQLite log as the log contract sees it, optionally wrapped (by a cache). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import type { ReceiptLog } from '../../src/log/receipt-log.js';
import type { LogStore } from './log-contract.js';

/** Runs `work` on the log file through a connection of its own. */
function withFile<T>(path: string, work: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

export function sqliteStore(wrap: (log: ReceiptLog) => ReceiptLog = (log) => log): LogStore {
  return {
    sharedWriters: false,
    async create() {
      const dir = await mkdtemp(join(tmpdir(), 'veritee-log-'));
      const path = join(dir, 'log.db');
      const open = () => wrap(openSqliteLog(path));
      return {
        log: open(),
        reopen: () => Promise.resolve().then(open),
        drop: () => rm(dir, { recursive: true, force: true }),
        schemaVersion: {
          read: () =>
            Promise.resolve(
              withFile(path, (db) => db.pragma('user_version', { simple: true }) as number),
            ),
          write: (version: number) =>
            Promise.resolve(withFile(path, (db) => void db.pragma(`user_version = ${version}`))),
        },
      };
    },
  };
}
