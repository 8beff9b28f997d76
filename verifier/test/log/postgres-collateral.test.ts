/**
 * The collateral cache on PostgreSQL is one copy for every replica: what one
 * stores, another reads, and a later answer replaces an earlier one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, POSTGRES_SKIP } from '@veritee/mock/postgres';
import { openPostgresCollateralStore } from '../../src/log/postgres-collateral.js';

describe('PostgreSQL collateral cache', { skip: POSTGRES_SKIP || false }, () => {
  it('shares what one replica stored with another', async () => {
    const database = await createTestDatabase();
    const [one, two] = [
      await openPostgresCollateralStore(database.url),
      await openPostgresCollateralStore(database.url),
    ];
    try {
      const path = '/vcek/v1/Milan/crl';
      assert.equal(await two.get(path), undefined);
      await one.put(path, new Uint8Array([1, 2, 3]));
      assert.deepEqual(await two.get(path), new Uint8Array([1, 2, 3]));
      await two.put(path, new Uint8Array([4]));
      assert.deepEqual(await one.get(path), new Uint8Array([4]));
    } finally {
      await Promise.all([one.close(), two.close()]);
      await database.drop();
    }
  });
});
