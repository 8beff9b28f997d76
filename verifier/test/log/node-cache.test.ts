import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inclusionProof, leafHash, merkleRoot } from '@veritee/attestations/merkle';
import { UpstreamError } from '@veritee/attestations';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import { withNodeCache } from '../../src/log/node-cache.js';
import type { ReceiptLog } from '../../src/log/receipt-log.js';
import { appendRecords, describeLogContract, record } from './log-contract.js';
import { sqliteStore } from './sqlite-store.js';

/** One chunk of 256 hashes: every computation evicts what the last one read. */
const ONE_CHUNK = 256 * 32;

// The whole contract again, through a cache so small it evicts on every proof.
describeLogContract(
  'SQLite through a one-chunk node cache',
  sqliteStore((log) => withNodeCache(log, { maxBytes: ONE_CHUNK })),
);

async function withLog<T>(work: (log: ReceiptLog) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'veritee-log-cache-'));
  const log = openSqliteLog(join(dir, 'log.db'));
  try {
    return await work(log);
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('node cache', () => {
  it('answers as the reference Merkle tree does while the log grows past cached right edges', () =>
    withLog(async (store) => {
      const log = withNodeCache(store);
      const leaves: Uint8Array[] = [];
      // Sizes straddle chunk edges at level 0 (256) and level 1 (512 leaves).
      for (const grow of [1, 200, 55, 1, 257, 300]) {
        const records = Array.from({ length: grow }, (_, i) => record(leaves.length + i));
        await appendRecords(log, records);
        leaves.push(...records.map((r) => leafHash(r.entry)));
        const size = leaves.length;
        assert.deepEqual(await log.root(size), merkleRoot(leaves));
        for (const index of [0, size - 1, Math.floor(size / 2)])
          assert.deepEqual(
            await log.inclusionProof(index, size),
            inclusionProof(leaves, index),
            `proof of ${index} in ${size}`,
          );
      }
      assert.ok(log.chunks() > 0, 'nodes are held');
    }));

  it('keeps the nodes its own appends complete, so proofs at the new size read nothing back', () =>
    withLog(async (store) => {
      let reads = 0;
      const counted: ReceiptLog = {
        ...store,
        hashes: (level, start, count) => {
          reads += 1;
          return store.hashes(level, start, count);
        },
      };
      const log = withNodeCache(counted);
      const leaves: Uint8Array[] = [];
      // Groups of 32, as receipts commit, across the chunk edges of levels 0 and 1.
      for (let group = 0; group < 20; group++) {
        const records = Array.from({ length: 32 }, (_, i) => record(leaves.length + i));
        await appendRecords(log, records);
        leaves.push(...records.map((r) => leafHash(r.entry)));
        const size = leaves.length;
        const before = reads;
        assert.deepEqual(await log.root(size), merkleRoot(leaves));
        for (const index of [size - 32, size - 1])
          assert.deepEqual(await log.inclusionProof(index, size), inclusionProof(leaves, index));
        assert.equal(reads, before, `size ${size}: every node was kept from the append`);
      }
    }));

  it('keeps within its budget', () =>
    withLog(async (store) => {
      const log = withNodeCache(store, { maxBytes: 3 * ONE_CHUNK });
      await appendRecords(
        log,
        Array.from({ length: 2000 }, (_, i) => record(i)),
      );
      for (let index = 0; index < 2000; index += 97) await log.inclusionProof(index, 2000);
      assert.equal(log.chunks(), 3);
    }));

  it('reads nodes it lacks from the store, so other writers appends are seen', () =>
    withLog(async (store) => {
      const log = withNodeCache(store);
      await appendRecords(log, [record(0), record(1)]);
      assert.deepEqual(await log.root(2), await store.root(2));
      // Appended behind the cache's back, as another replica would.
      await appendRecords(store, [record(2), record(3), record(4)]);
      assert.deepEqual(await log.root(5), await store.root(5));
      assert.deepEqual(await log.consistencyProof(2, 5), await store.consistencyProof(2, 5));
    }));

  it('refuses a store that lacks a node it must hold, as LOG_CORRUPT', async () => {
    const hollow = { hashes: () => Promise.resolve([]) } as unknown as ReceiptLog;
    const log = withNodeCache(hollow);
    await assert.rejects(
      log.inclusionProof(3, 10),
      (error: unknown) => error instanceof UpstreamError && error.code === 'LOG_CORRUPT',
    );
    const malformed = {
      hashes: () => Promise.resolve([new Uint8Array(31)]),
    } as unknown as ReceiptLog;
    await assert.rejects(
      withNodeCache(malformed).root(1),
      (error: unknown) => error instanceof UpstreamError && error.code === 'LOG_CORRUPT',
    );
  });
});
