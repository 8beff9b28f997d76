import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash, merkleRoot, verifyConsistency, verifyInclusion } from '@veritee/attestations';
import { openSqliteLog } from '../../src/log/sqlite-log.js';

const record = (index: number) => ({
  entry: new TextEncoder().encode(`entry ${index}`),
  id: `r${index}`,
  receipt: `jws.${index}`,
});

describe('SQLite receipt log', () => {
  it('proves inclusion and consistency for every size from 1 to 200, matching the in-memory tree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-log-'));
    try {
      const log = openSqliteLog(join(dir, 'log.db'));
      const hashes: Uint8Array[] = [];
      const roots: Uint8Array[] = [];
      for (let size = 1; size <= 200; size++) {
        const [written] = log.append([record(size - 1)]);
        assert.equal(written?.index, size - 1);
        hashes.push(leafHash(record(size - 1).entry));
        const root = log.root(size);
        assert.deepEqual(root, merkleRoot(hashes));
        roots.push(root);
        for (const index of [0, Math.floor(size / 2), size - 1])
          assert.ok(
            verifyInclusion(hashes[index]!, index, size, log.inclusionProof(index, size), root),
          );
        for (const first of [1, Math.ceil(size / 3), size])
          assert.ok(
            verifyConsistency(
              first,
              size,
              log.consistencyProof(first, size),
              roots[first - 1]!,
              root,
            ),
            `${first} -> ${size}`,
          );
      }
      log.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps entries and receipts across a reopen, and appends a batch atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-log-'));
    try {
      const path = join(dir, 'log.db');
      const log = openSqliteLog(path);
      log.append([record(0), record(1), record(2)]);
      const root = log.root(3);
      assert.throws(
        () => log.append([record(3), record(1)]),
        'a repeated receipt id fails the whole batch',
      );
      assert.equal(log.size(), 3);
      log.close();
      const reopened = openSqliteLog(path);
      assert.equal(reopened.size(), 3);
      assert.deepEqual(reopened.root(3), root);
      assert.equal(reopened.receipt('r1'), 'jws.1');
      assert.equal(reopened.receipt('r3'), undefined);
      assert.deepEqual(reopened.entry(2), record(2).entry);
      reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
