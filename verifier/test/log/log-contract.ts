/**
 * What every receipt log store must do, run against each store: proofs for
 * every size, durability across a reopen, atomic batches, positions that seal
 * sees fixed, and concurrent writers that never share a position.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '@veritee/attestations/merkle';
import { ConfigError } from '@veritee/attestations';
import {
  LOG_SCHEMA_VERSION,
  type ReceiptLog,
  type ReceiptRecord,
} from '../../src/log/receipt-log.js';

export const record = (name: string | number): ReceiptRecord => ({
  entry: new TextEncoder().encode(`entry ${name}`),
  id: `r${name}`,
  receipt: `jws.${name}`,
});

export const appendRecords = (log: ReceiptLog, records: readonly ReceiptRecord[]) =>
  log.append(records.length, () => Promise.resolve(records));

export interface LogStore {
  /** A fresh, empty log, and a way to open it again (as another process would). */
  create(): Promise<{
    log: ReceiptLog;
    reopen: () => Promise<ReceiptLog>;
    drop: () => Promise<void>;
    /** The schema version the store records, read and written behind the log's back. */
    schemaVersion: { read(): Promise<number>; write(version: number): Promise<void> };
  }>;
  /** Whether two open handles may append to one log at once (several replicas). */
  readonly sharedWriters: boolean;
}

/** @param skip a reason to skip the suite (its store is not available here), or undefined to run it */
export function describeLogContract(name: string, store: LogStore, skip?: string): void {
  describe(`${name} receipt log`, { skip: skip ?? false }, () => {
    it('reads entries and stored subtree hashes by range, as tiles and entry bundles need', async () => {
      const { log, drop } = await store.create();
      try {
        const records = Array.from({ length: 300 }, (_, i) => record(i));
        await appendRecords(log, records);
        assert.deepEqual(
          await log.entries(254, 5),
          records.slice(254, 259).map((r) => r.entry),
        );
        assert.deepEqual((await log.entries(298, 10)).length, 2, 'as many as the log holds');
        const leaves = records.map((r) => leafHash(r.entry));
        assert.deepEqual(await log.hashes(0, 10, 3), leaves.slice(10, 13));
        // Level 8: one perfect subtree of 256 leaves so far.
        assert.deepEqual(await log.hashes(8, 0, 256), [merkleRoot(leaves.slice(0, 256))]);
        assert.deepEqual(await log.hashes(2, 74, 2), [merkleRoot(leaves.slice(296, 300))]);
      } finally {
        await drop();
      }
    });

    it('proves inclusion and consistency for every size from 1 to 200, matching the in-memory tree', async () => {
      const { log, drop } = await store.create();
      try {
        const hashes: Uint8Array[] = [];
        const roots: Uint8Array[] = [];
        for (let size = 1; size <= 200; size++) {
          const {
            entries: [written],
          } = await appendRecords(log, [record(size - 1)]);
          assert.equal(written?.index, size - 1);
          hashes.push(leafHash(record(size - 1).entry));
          const root = await log.root(size);
          assert.deepEqual(root, merkleRoot(hashes));
          roots.push(root);
          for (const index of [0, Math.floor(size / 2), size - 1])
            assert.ok(
              verifyInclusion(
                hashes[index]!,
                index,
                size,
                await log.inclusionProof(index, size),
                root,
              ),
            );
          for (const first of [1, Math.ceil(size / 3), size])
            assert.ok(
              verifyConsistency(
                first,
                size,
                await log.consistencyProof(first, size),
                roots[first - 1]!,
                root,
              ),
              `${first} -> ${size}`,
            );
        }
        await log.close();
      } finally {
        await drop();
      }
    });

    it('records its schema version, and refuses a store a newer verifier wrote', async () => {
      const { log, reopen, drop, schemaVersion } = await store.create();
      try {
        assert.equal(await schemaVersion.read(), LOG_SCHEMA_VERSION);
        await appendRecords(log, [record('kept')]);
        await log.close();
        await schemaVersion.write(LOG_SCHEMA_VERSION + 1);
        await assert.rejects(
          reopen(),
          (error) => error instanceof ConfigError && error.code === 'LOG_SCHEMA_UNSUPPORTED',
        );
        await schemaVersion.write(LOG_SCHEMA_VERSION);
        const again = await reopen();
        assert.equal(await again.size(), 1);
        await again.close();
      } finally {
        await drop();
      }
    });

    it('keeps entries and receipts across a reopen, and appends a batch atomically', async () => {
      const { log, reopen, drop } = await store.create();
      try {
        await appendRecords(log, [record(0), record(1), record(2)]);
        const root = await log.root(3);
        await assert.rejects(
          appendRecords(log, [record(3), record(1)]),
          'a repeated receipt id fails the whole batch',
        );
        assert.equal(await log.size(), 3);
        await log.close();
        const reopened = await reopen();
        assert.equal(await reopened.size(), 3);
        assert.deepEqual(await reopened.root(3), root);
        assert.equal(await reopened.receipt('r1'), 'jws.1');
        assert.equal(await reopened.receipt('r3'), undefined);
        assert.deepEqual(await reopened.entry(2), record(2).entry);
        // The failed batch left no hole: the next append takes position 3.
        const {
          entries: [next],
        } = await appendRecords(reopened, [record(3)]);
        assert.equal(next?.index, 3);
        await reopened.close();
      } finally {
        await drop();
      }
    });

    it('lists statements by position and finds them by model, measurement, type and time, newest first', async () => {
      const { log, reopen, drop } = await store.create();
      try {
        const statement = (i: number, model: string, measurement: string, iat: number) => ({
          entry: new TextEncoder().encode(
            JSON.stringify({
              typ: 'veritee.receipt/v2',
              iat,
              jti: `s${i}`,
              tee: { format: 'sev-snp', measurement, simulated: true },
              model_hash: model,
            }),
          ),
          id: `s${i}`,
          receipt: `jws.s${i}`,
        });
        const change = {
          entry: new TextEncoder().encode(
            JSON.stringify({
              typ: 'veritee.policy-change/v1',
              iat: 1500,
              reference: {
                tee: 'nitro',
                pcrs: { pcr0: 'cc'.repeat(48) },
                modelHash: 'aa'.repeat(32),
              },
            }),
          ),
          id: 'policy-p-2',
          receipt: 'jws.policy',
        };
        await appendRecords(log, [
          record('not json'),
          statement(1, 'aa'.repeat(32), 'bb'.repeat(48), 1000),
          statement(2, 'dd'.repeat(32), 'bb'.repeat(48), 2000),
          change,
          statement(4, 'aa'.repeat(32), 'ee'.repeat(48), 3000),
        ]);
        const ids = (found: Array<{ id: string }>) => found.map((entry) => entry.id);
        assert.deepEqual(ids(await log.statements(1, 3)), ['s1', 's2', 'policy-p-2']);
        assert.deepEqual(
          (await log.statements(0, 2)).map(({ index, typ, iat }) => [index, typ, iat]),
          [
            [0, 'unknown', null],
            [1, 'veritee.receipt/v2', 1000],
          ],
        );
        const search = (query: Partial<Parameters<typeof log.searchStatements>[0]>) =>
          log.searchStatements({ limit: 10, ...query }).then(ids);
        assert.deepEqual(await search({ modelHash: 'aa'.repeat(32) }), ['s4', 'policy-p-2', 's1']);
        assert.deepEqual(await search({ measurement: 'bb'.repeat(48) }), ['s2', 's1']);
        assert.deepEqual(await search({ measurement: 'cc'.repeat(48) }), ['policy-p-2']);
        assert.deepEqual(await search({ typ: 'veritee.policy-change/v1' }), ['policy-p-2']);
        assert.deepEqual(await search({ since: 1500, until: 3000 }), ['policy-p-2', 's2']);
        assert.deepEqual(await search({ modelHash: 'aa'.repeat(32), before: 3, limit: 1 }), ['s1']);
        assert.deepEqual(await search({ modelHash: 'ff'.repeat(32) }), []);
        await log.close();
        const again = await reopen();
        assert.deepEqual(ids(await again.searchStatements({ limit: 2 })), ['s4', 'policy-p-2']);
        await again.close();
      } finally {
        await drop();
      }
    });

    it('hands every append its own positions, even from concurrent writers', async () => {
      const { log, reopen, drop } = await store.create();
      const other = store.sharedWriters ? await reopen() : log;
      try {
        const seen: number[] = [];
        await Promise.all(
          Array.from({ length: 40 }, (_, n) =>
            (n % 2 === 0 ? log : other).append(2, async (first) => {
              seen.push(first, first + 1);
              await new Promise((resolve) => setTimeout(resolve, n % 3));
              return [record(`${n}a`), record(`${n}b`)];
            }),
          ),
        );
        assert.deepEqual(
          [...seen].sort((a, b) => a - b),
          Array.from({ length: 80 }, (_, index) => index),
        );
        assert.equal(await log.size(), 80);
        const hashes = await Promise.all(
          Array.from({ length: 80 }, async (_, index) => leafHash((await log.entry(index))!)),
        );
        assert.deepEqual(await other.root(80), merkleRoot(hashes));
      } finally {
        if (other !== log) await other.close();
        await log.close();
        await drop();
      }
    });
  });
}
