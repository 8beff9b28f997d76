import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import { describeLogContract } from './log-contract.js';

describeLogContract('SQLite', {
  sharedWriters: false,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-log-'));
    const path = join(dir, 'log.db');
    return {
      log: openSqliteLog(path),
      reopen: () => Promise.resolve(openSqliteLog(path)),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
