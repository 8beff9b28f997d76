/**
 * The log contract against a real PostgreSQL server (scripts/test-postgres.sh
 * starts one for `npm test` when PostgreSQL is installed). Each log lives in a
 * database of its own, created for the test and dropped after.
 */
import { openPostgresLog } from '../../src/log/postgres-log.js';
import { describeLogContract } from './log-contract.js';
import { createTestDatabase, POSTGRES_SKIP } from '@veritee/mock/postgres';

describeLogContract(
  'PostgreSQL',
  {
    sharedWriters: true,
    async create() {
      const database = await createTestDatabase();
      return {
        log: await openPostgresLog(database.url),
        reopen: () => openPostgresLog(database.url),
        drop: database.drop,
      };
    },
  },
  POSTGRES_SKIP || undefined,
);
