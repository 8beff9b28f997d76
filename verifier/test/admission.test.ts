/**
 * The verifier's CPU-heavy routes are admitted like the host's: past the
 * in-flight and queue limits a request gets 429 VERIFIER_BUSY with Retry-After
 * at once, instead of growing a queue without bound.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AT, receiptRequestBody, trustWithDev } from '@veritee/mock';
import { createAdmission } from '@veritee/service';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
  type Appraiser,
  type ReceiptLog,
} from '../src/index.js';

describe('verifier admission', () => {
  let dir: string;
  let log: ReceiptLog;
  let server: Server;
  let base: string;
  let release: () => void = () => undefined;
  let held = new Promise<void>((resolve) => (release = resolve));
  let started = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-admission-'));
    log = openSqliteLog(join(dir, 'log.db'));
    const inline = createInlineAppraiser({ trust: trustWithDev, allowSimulated: true });
    // An appraiser that holds every appraisal until released: the slots stay taken.
    const holding: Appraiser = {
      ...inline,
      appraise: async (...args) => {
        started += 1;
        await held;
        return inline.appraise(...args);
      },
    };
    const { app } = await createVerifier({
      log,
      signer: await openLocalSigner(join(dir, 'keys'), () => AT),
      appraiser: holding,
      issuer: 'http://verifier.test',
      basePolicy: { id: 'p', version: 1, policy: {} },
      clock: () => AT,
      admission: createAdmission({ maxInFlight: 1, maxQueue: 1, busyCode: 'VERIFIER_BUSY' }),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    release();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = async (path: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: await receiptRequestBody(AT),
    });

  it('answers 429 VERIFIER_BUSY with Retry-After past its limits, and serves the admitted', async () => {
    held = new Promise<void>((resolve) => (release = resolve));
    const running = post('/v1/receipts');
    while (started === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const queued = post('/v1/verify');
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const path of ['/v1/receipts', '/v1/verify']) {
      const refused = await post(path);
      assert.equal(refused.status, 429, path);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(((await refused.json()) as { code: string }).code, 'VERIFIER_BUSY');
    }
    assert.equal(started, 1, 'the queued request had not started, the refused never will');
    release();
    assert.equal((await running).status, 201);
    assert.equal((await queued).status, 200);
  });
});
