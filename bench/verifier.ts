/**
 * The verifier: receipts issued per second (appraisal of a simulated SNP
 * quote, ES256 signing and a durable append together, group commit on) with
 * SQLite and with PostgreSQL; and inclusion proofs served per second over HTTP
 * from a log of one million entries, with the time it took to build.
 * Appraisal runs in a worker pool of 1 thread, then of one per core.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindingDigest, type Binding } from '@veritee/attestations/wire';
import { AT, DEV_PKI_PATH, simulator, trustWithDev } from '@veritee/mock';
import {
  type ReceiptLog,
  openSqliteLog,
  openPostgresLog,
  createReceiptService,
  createStatementLog,
  createInlineAppraiser,
  createPooledAppraiser,
  type Appraiser,
  openLocalSigner,
  createVerifier,
} from '@veritee/verifier';
import { createTestDatabase } from '@veritee/mock/postgres';
import { formatLoad, formatRun, load, loadFromProcess, printRow } from './measure.js';
import { createBoundedServer, DEFAULT_SERVER_LIMITS } from '@veritee/service';

const POLICY = { id: 'bench', version: 1, policy: {} };
const PROOF_LOG_SIZE = 1_000_000;

async function quotes(count: number): Promise<Array<{ evidence: Uint8Array; binding: Binding }>> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const binding: Binding = {
        modelHash: randomBytes(32),
        inputCommitment: randomBytes(32),
        outputHash: randomBytes(32),
        nonce: randomBytes(32),
        enclaveKey: randomBytes(32),
      };
      const { evidence } = await simulator.snp({ at: AT, reportData: bindingDigest(binding) });
      return { evidence, binding };
    }),
  );
}

async function receiptsPerSecond(
  log: ReceiptLog,
  dir: string,
  label: string,
  appraiser: Appraiser,
): Promise<void> {
  const receipts = createReceiptService({
    receiptById: (id) => log.receipt(id),
    statements: createStatementLog({
      log,
      signer: await openLocalSigner(join(dir, 'keys'), () => AT),
    }),
    issuer: 'https://verifier.bench',
    policy: () => POLICY,
    appraiser,
    clock: () => AT,
  });
  const inputs = await quotes(64);
  for (const concurrency of [1, 32]) {
    const run = await load(concurrency, (index) => {
      const { evidence, binding } = inputs[index % inputs.length]!;
      return receipts.issue(evidence, binding, undefined);
    });
    printRow(`receipts issued, ${label}, c=${concurrency}`, formatRun(run));
  }
}

/** Fills a log with `size` synthetic entries in large groups; returns the seconds it took. */
async function fill(log: ReceiptLog, size: number): Promise<number> {
  const started = performance.now();
  const group = 10_000;
  for (let first = 0; first < size; first += group) {
    const count = Math.min(group, size - first);
    await log.append(count, (at) =>
      Promise.resolve(
        Array.from({ length: count }, (_, offset) => ({
          entry: new TextEncoder().encode(`entry ${at + offset}`),
          id: `r${at + offset}`,
          receipt: `jws.${at + offset}`,
        })),
      ),
    );
  }
  return (performance.now() - started) / 1000;
}

async function proofsServed(log: ReceiptLog, dir: string, size: number, label: string) {
  const appraiser = createInlineAppraiser({ trust: trustWithDev, allowSimulated: true });
  const { listener, warmLog } = await createVerifier({
    log,
    signer: await openLocalSigner(join(dir, 'keys'), () => AT),
    appraiser,
    issuer: 'https://verifier.bench',
    basePolicy: POLICY,
    clock: () => AT,
  });
  // The verifier's own server (as main.ts builds it), and the load from another process.
  const server = createBoundedServer(DEFAULT_SERVER_LIMITS, listener);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const path = `/v1/log/proofs/inclusion?index={random:${size}}&size=${size}`;
  // The verifier warms its node cache when it starts; the figures are for a warm verifier.
  const started = performance.now();
  await warmLog();
  printRow(
    `cached the nodes of ${size} entries`,
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  for (const concurrency of [1, 8]) {
    const run = await loadFromProcess(base, concurrency, path);
    const aim = concurrency === 8 ? `  (aim >= 10,000/s)` : '';
    printRow(`inclusion proofs over HTTP, ${label}, c=${concurrency}`, `${formatLoad(run)}${aim}`);
  }
  await new Promise((resolve) => server.close(resolve));
}

export async function benchVerifier(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'veritee-bench-verifier-'));
  try {
    const cores = availableParallelism();
    const pools: Array<[string, Appraiser]> = [
      [
        '1 worker',
        createPooledAppraiser({
          workers: 1,
          trust: { allowSimulated: true, devPkiPath: DEV_PKI_PATH },
        }),
      ],
      [
        `${cores} workers`,
        createPooledAppraiser({
          workers: cores,
          trust: { allowSimulated: true, devPkiPath: DEV_PKI_PATH },
        }),
      ],
    ];
    for (const [workers, appraiser] of pools) {
      const sqlite = openSqliteLog(join(dir, `receipts-${workers.replace(' ', '-')}.db`));
      await receiptsPerSecond(sqlite, dir, `SQLite, ${workers}`, appraiser);
      await sqlite.close();
    }

    const postgres = process.env['VERITEE_TEST_POSTGRES_URL'];
    if (postgres === undefined) printRow('receipts issued, PostgreSQL', 'skipped: no server');
    else {
      for (const [workers, appraiser] of pools) {
        const database = await createTestDatabase();
        const log = await openPostgresLog(database.url);
        await receiptsPerSecond(log, dir, `PostgreSQL, ${workers}`, appraiser);
        await log.close();
        await database.drop();
      }
    }

    for (const [, appraiser] of pools) await appraiser.close();

    const big = openSqliteLog(join(dir, 'million.db'));
    const seconds = await fill(big, PROOF_LOG_SIZE);
    printRow(
      `built a SQLite log of ${PROOF_LOG_SIZE} entries`,
      `${seconds.toFixed(1)} s (${(PROOF_LOG_SIZE / seconds).toFixed(0)} entries/s)`,
    );
    await proofsServed(big, dir, PROOF_LOG_SIZE, `SQLite ${PROOF_LOG_SIZE}`);
    await big.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
