/**
 * The verifier process under faults of what it stores to: its PostgreSQL
 * server restarted in the middle of a stream of appends, and its SQLite disk
 * full. Each failure is a typed 503 and a log line saying what happened;
 * nothing acknowledged is lost, and the same requests succeed once the store
 * is back. Real processes over real HTTP on 127.0.0.1.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { receiptRequestBody } from '@veritee/mock';
import { PRIVATE_POSTGRES_SKIP, startPrivatePostgres } from '@veritee/mock/postgres';
import { createHome, startTestVerifier, TEST_HOST_TOKEN, type Service } from '@veritee/mock/system';

interface Outcome {
  readonly status: number;
  readonly code?: string | undefined;
  readonly id?: string | undefined;
}

async function requestReceipt(verifier: Service, body: string): Promise<Outcome> {
  const response = await fetch(`${verifier.url}/v1/receipts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_HOST_TOKEN}` },
    body,
  });
  const answer = (await response.json()) as { id?: string; code?: string };
  return { status: response.status, code: answer.code, id: answer.id };
}

/** Every acknowledged receipt is served by a verifier started afresh on the same store. */
async function assertAllServed(home: string, env: Record<string, string>, ids: readonly string[]) {
  const verifier = await startTestVerifier(home, env);
  try {
    for (const id of ids)
      assert.equal((await fetch(`${verifier.url}/v1/receipts/${id}`)).status, 200, id);
  } finally {
    await verifier.stop();
  }
}

describe('the verifier under storage faults', () => {
  it(
    'keeps every acknowledged receipt while its PostgreSQL server restarts mid-stream, refusing with LOG_UNAVAILABLE meanwhile',
    { skip: PRIVATE_POSTGRES_SKIP },
    async () => {
      const postgres = startPrivatePostgres();
      const home = createHome();
      after(() => {
        postgres.stop();
        rmSync(home, { recursive: true, force: true });
      });
      const env = { VERITEE_DATABASE_URL: postgres.url };
      const verifier = await startTestVerifier(home, env);
      const at = new Date();
      const bodies = await Promise.all(Array.from({ length: 36 }, () => receiptRequestBody(at)));
      const outcomes: Outcome[] = [];
      let restart: Promise<void> | undefined;
      try {
        for (const [index, body] of bodies.entries()) {
          if (index === 10) restart = postgres.restart('fast', 1500);
          outcomes.push(await requestReceipt(verifier, body));
          // Pace the stream so it spans the server's absence.
          await new Promise((resolveWait) => setTimeout(resolveWait, 60));
        }
        await restart;
        const refused = outcomes.filter((outcome) => outcome.status !== 201);
        assert.ok(refused.length > 0, 'some appends met the stopped server');
        for (const outcome of refused)
          assert.deepEqual([outcome.status, outcome.code], [502, 'LOG_UNAVAILABLE']);
        assert.equal(
          outcomes.at(-1)?.status,
          201,
          'appends succeed again without a verifier restart',
        );
        // The refused requests, sent again, are issued now; the acknowledged ones stay as they were.
        for (const [index, outcome] of outcomes.entries())
          if (outcome.status !== 201)
            outcomes[index] = await requestReceipt(verifier, bodies[index]!);
        assert.ok(outcomes.every((outcome) => outcome.status === 201));
        assert.match(readFileSync(verifier.logFile, 'utf8'), /LOG_UNAVAILABLE/);
      } finally {
        await verifier.stop();
      }
      await assertAllServed(
        home,
        env,
        outcomes.map((outcome) => outcome.id!),
      );
    },
  );

  const canMount = process.getuid?.() === 0;
  it(
    'refuses with LOG_STORAGE_FULL when its SQLite disk is full, loses nothing, and issues again once there is room',
    { skip: canMount ? false : 'mounting a small tmpfs needs root' },
    async () => {
      const home = createHome();
      const disk = join(home, 'small-disk');
      mkdirSync(disk);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', disk]);
      assert.equal(mounted.status, 0, `mount: ${String(mounted.stderr)}`);
      after(() => {
        spawnSync('umount', [disk]);
        rmSync(home, { recursive: true, force: true });
      });
      const env = { VERITEE_VERIFIER_DATA: join(disk, 'verifier') };
      const verifier = await startTestVerifier(home, env);
      const at = new Date();
      const bodies = await Promise.all(Array.from({ length: 24 }, () => receiptRequestBody(at)));
      const outcomes: Outcome[] = [];
      try {
        for (const body of bodies.slice(0, 8)) outcomes.push(await requestReceipt(verifier, body));
        assert.ok(outcomes.every((outcome) => outcome.status === 201));
        // Fill the disk to the last byte.
        const filler = join(disk, 'filler');
        const fd = openSync(filler, 'w');
        const chunk = Buffer.alloc(64 * 1024, 1);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (error) {
          assert.equal((error as { code?: string }).code, 'ENOSPC');
        }
        try {
          for (;;) writeSync(fd, chunk, 0, 1);
        } catch {
          // full
        }
        closeSync(fd);
        for (const body of bodies.slice(8)) outcomes.push(await requestReceipt(verifier, body));
        const refused = outcomes.filter((outcome) => outcome.status !== 201);
        assert.ok(refused.length > 0, 'appends met the full disk');
        for (const outcome of refused)
          assert.deepEqual([outcome.status, outcome.code], [503, 'LOG_STORAGE_FULL']);
        assert.match(readFileSync(verifier.logFile, 'utf8'), /LOG_STORAGE_FULL/);
        // Reads still work while full.
        assert.equal((await fetch(`${verifier.url}/v1/log/checkpoint`)).status, 200);

        rmSync(filler);
        for (const [index, outcome] of outcomes.entries())
          if (outcome.status !== 201)
            outcomes[index] = await requestReceipt(verifier, bodies[index]!);
        assert.ok(
          outcomes.every((outcome) => outcome.status === 201),
          'the refused requests are issued once there is room',
        );
      } finally {
        await verifier.stop();
      }
      const db = new Database(join(disk, 'verifier', 'log.db'), { readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        db.close();
      }
      await assertAllServed(
        home,
        env,
        outcomes.map((outcome) => outcome.id!),
      );
    },
  );
});
