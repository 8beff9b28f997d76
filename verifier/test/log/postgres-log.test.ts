/**
 * The log contract against a real PostgreSQL server (scripts/test-postgres.sh
 * starts one for `npm test` when PostgreSQL is installed). Each log lives in a
 * database of its own, created for the test and dropped after.
 */
import pg from 'pg';
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
        schemaVersion: {
          async read() {
            const client = new pg.Client({ connectionString: database.url });
            await client.connect();
            try {
              const { rows } = await client.query<{ version: number }>(
                'SELECT version FROM veritee_schema',
              );
              return rows[0]?.version ?? -1;
            } finally {
              await client.end();
            }
          },
          async write(version: number) {
            const client = new pg.Client({ connectionString: database.url });
            await client.connect();
            try {
              await client.query('UPDATE veritee_schema SET version = $1', [version]);
            } finally {
              await client.end();
            }
          },
        },
      };
    },
  },
  POSTGRES_SKIP || undefined,
);
