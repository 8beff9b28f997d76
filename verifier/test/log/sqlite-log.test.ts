import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { UpstreamError } from '@veritee/attestations';
import { appendRecords, describeLogContract } from './log-contract.js';
import { sqliteStore } from './sqlite-store.js';

describeLogContract('SQLite', sqliteStore());

describe('SQLite receipt log, indexed before the index existed', () => {
  it('indexes on open the statements a verifier without the index appended', async () => {
    const { log, reopen, drop } = await sqliteStore().create();
    try {
      const entry = (model: string) =>
        new TextEncoder().encode(
          JSON.stringify({ typ: 'veritee.receipt/v2', iat: 1, model_hash: model }),
        );
      await appendRecords(log, [
        { entry: entry('aa'.repeat(32)), id: 'a', receipt: 'jws.a' },
        { entry: entry('bb'.repeat(32)), id: 'b', receipt: 'jws.b' },
      ]);
      await log.close();
      // As a verifier from before the index left it: the entries, and no index rows.
      const path = log.description.split(' ')[1] ?? '';
      const db = new Database(path);
      db.exec('DELETE FROM statement_index');
      db.close();
      const again = await reopen();
      const found = await again.searchStatements({ modelHash: 'bb'.repeat(32), limit: 5 });
      assert.deepEqual(
        found.map((statement) => statement.id),
        ['b'],
      );
      await again.close();
    } finally {
      await drop();
    }
  });
});

describe('SQLite receipt log, appended by its writer thread', () => {
  it('refuses an append over a missing stored node as LOG_CORRUPT, typed as on the main thread', async () => {
    const { log, drop } = await sqliteStore().create();
    try {
      await appendRecords(log, [
        { entry: new TextEncoder().encode('{}'), id: 'a', receipt: 'jws.a' },
      ]);
      // The node the next append completes its parent from.
      const db = new Database(log.description.split(' ')[1] ?? '');
      db.exec('DELETE FROM nodes WHERE level = 0 AND idx = 0');
      db.close();
      await assert.rejects(
        appendRecords(log, [{ entry: new TextEncoder().encode('{}'), id: 'b', receipt: 'jws.b' }]),
        (error: unknown) => error instanceof UpstreamError && error.code === 'LOG_CORRUPT',
      );
      await log.close();
    } finally {
      await drop();
    }
  });
});
