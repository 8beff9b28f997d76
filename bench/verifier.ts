/**
 * The verifier: receipts issued per second over HTTP (appraisal of a
 * simulated SNP quote, ES256 signing and a durable append together, group
 * commit on), one quote per receipt and 32 receipts to a quote, with SQLite
 * and with PostgreSQL; and inclusion proofs served per second over HTTP
 * from a log of one million entries, with the time it took to build.
 * Appraisal runs in a worker pool of 1 thread, then of one per core.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inclusionProof } from '@veritee/attestations/merkle';
import {
  batchReportData,
  bindingDigest,
  bindingToJson,
  inclusionToJson,
} from '@veritee/attestations/wire';
import { AT, DEV_PKI_PATH, randomBinding, simulator, trustWithDev } from '@veritee/mock';
import {
  type ReceiptLog,
  openSqliteLog,
  openPostgresLog,
  createInlineAppraiser,
  createPooledAppraiser,
  type Appraiser,
  openLocalSigner,
  createVerifier,
} from '@veritee/verifier';
import { createTestDatabase } from '@veritee/mock/postgres';
import { formatLoad, loadFromProcess, printRow } from './measure.js';
import { createBoundedServer, DEFAULT_SERVER_LIMITS } from '@veritee/service';

const POLICY = { id: 'bench', version: 1, policy: {} };
const PROOF_LOG_SIZE = 1_000_000;

/**
 * One fresh simulated quote over `size` fresh bindings: alone, bound directly;
 * more, over their Merkle root as the enclave batches, each with its path.
 */
async function quotedBindings(size: number) {
  const bindings = Array.from({ length: size }, randomBinding);
  const { reportData, leaves } = batchReportData(bindings);
  const single = size === 1;
  const { evidence } = await simulator.snp({
    at: AT,
    reportData: single ? bindingDigest(bindings[0]!) : reportData,
  });
  return {
    evidence: Buffer.from(evidence).toString('base64'),
    items: bindings.map((binding, index) => ({
      binding: bindingToJson(binding),
      ...(single
        ? {}
        : { inclusion: inclusionToJson({ index, size, path: inclusionProof(leaves, index) }) }),
    })),
  };
}

/**
 * Bodies of `POST /v1/receipts`, each for a binding of its own: with `batch`
 * 1, one fresh quote per receipt; with more, one quote per `batch` bindings.
 */
async function receiptBodies(count: number, batch: number): Promise<string[]> {
  const bodies: string[] = [];
  while (bodies.length < count) {
    const { evidence, items } = await quotedBindings(batch);
    for (const item of items) bodies.push(JSON.stringify({ evidence, ...item }));
  }
  return bodies;
}

/**
 * Bodies of `POST /v1/receipts/batch`, as hosts send them: each the 32
 * answers of one batched quote (its evidence once, each binding with its path).
 */
async function batchBodies(count: number): Promise<string[]> {
  const bodies: string[] = [];
  while (bodies.length < count) bodies.push(JSON.stringify(await quotedBindings(32)));
  return bodies;
}

/** Receipts issued over HTTP by the verifier's own server, loaded from another process. */
async function receiptsPerSecond(
  log: ReceiptLog,
  dir: string,
  label: string,
  appraiser: Appraiser,
  bodies: { single: string; batched: string; batches: string },
): Promise<void> {
  const { listener } = await createVerifier({
    log,
    signer: await openLocalSigner(join(dir, 'keys'), () => AT),
    appraiser,
    issuer: 'https://verifier.bench',
    basePolicy: POLICY,
    clock: () => AT,
  });
  const server = createBoundedServer(DEFAULT_SERVER_LIMITS, listener);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Receipts of one request each at c=32; then batched quotes as hosts ask for them,
  // 32 answers to a request, 4 requests at a time (128 receipts in flight).
  for (const [kind, file, aim, path, concurrency, perRequest] of [
    ['one quote each, c=32', bodies.single, '>= 1,000/s', '/v1/receipts', 32, 1],
    ['32 to a quote, c=32', bodies.batched, '>= 3,000/s', '/v1/receipts', 32, 1],
    [
      '32 to a quote, batch requests, c=4',
      bodies.batches,
      '>= 3,000/s',
      '/v1/receipts/batch',
      4,
      32,
    ],
  ] as const) {
    const cpuBefore = process.cpuUsage();
    const run = await loadFromProcess(base, concurrency, path, 3000, file);
    const cpu = process.cpuUsage(cpuBefore);
    const receipts = run.count * perRequest;
    printRow(
      `receipts over HTTP, ${label}, ${kind}`,
      `${(run.perSecond * perRequest).toFixed(0)} receipts/s, ${formatLoad(run)}  (aim ${aim})`,
    );
    // Every thread of the verifier (event loop, appraisal pool, log writer, GC) against the load's.
    printRow(
      '  CPU per receipt',
      `verifier ${((cpu.user + cpu.system) / 1000 / Math.max(1, receipts)).toFixed(2)} ms, load generator ${(run.cpuMsPerRequest / perRequest).toFixed(2)} ms (${availableParallelism()} cores shared)`,
    );
  }
  await new Promise((resolve) => server.close(resolve));
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
    // A running verifier's workers have started and compiled their code: so have these,
    // each having appraised a quote of its own before anything is measured.
    for (const [, appraiser] of pools)
      await Promise.all(
        Array.from({ length: cores }, async () =>
          appraiser.appraise((await simulator.snp({ at: AT })).evidence, AT, POLICY.policy),
        ),
      );
    // Distinct receipts for every run (a repeated request finds its receipt, which is cheaper).
    const bodyFile = async (name: string, bodies: Promise<string[]>) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(await bodies));
      return file;
    };
    const bodiesFor = async (run: string) => ({
      single: await bodyFile(`${run}-single.json`, receiptBodies(5000, 1)),
      batched: await bodyFile(`${run}-batched.json`, receiptBodies(16_384, 32)),
      batches: await bodyFile(`${run}-batches.json`, batchBodies(600)),
    });
    for (const [workers, appraiser] of pools) {
      const sqlite = openSqliteLog(join(dir, `receipts-${workers.replace(' ', '-')}.db`));
      await receiptsPerSecond(
        sqlite,
        dir,
        `SQLite, ${workers}`,
        appraiser,
        await bodiesFor(`sqlite-${workers.replace(' ', '-')}`),
      );
      await sqlite.close();
    }

    const postgres = process.env['VERITEE_TEST_POSTGRES_URL'];
    if (postgres === undefined) printRow('receipts issued, PostgreSQL', 'skipped: no server');
    else {
      for (const [workers, appraiser] of pools) {
        const database = await createTestDatabase();
        const log = await openPostgresLog(database.url);
        await receiptsPerSecond(
          log,
          dir,
          `PostgreSQL, ${workers}`,
          appraiser,
          await bodiesFor(`postgres-${workers.replace(' ', '-')}`),
        );
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
