import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import Database from 'better-sqlite3';
import { describeLogContract } from './log-contract.js';

/** Runs `work` on the log file through a connection of its own. */
function withFile<T>(path: string, work: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

describeLogContract('SQLite', {
  sharedWriters: false,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-log-'));
    const path = join(dir, 'log.db');
    return {
      log: openSqliteLog(path),
      reopen: () => Promise.resolve().then(() => openSqliteLog(path)),
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
});
