/**
 * The log as anyone browses it over HTTP: entries by position with their leaf
 * hashes and signed statements, and search by model hash, measurement,
 * receipt id and time, newest first with a paging cursor; bad queries are 400.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { toHex } from '@veritee/attestations';
import { leafHash } from '@veritee/attestations/merkle';
import { AT, randomBinding, receiptRequestBody, trustWithDev } from '@veritee/mock';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
  type ReceiptLog,
} from '../src/index.js';

interface Item {
  index: number;
  id: string | null;
  type: string | null;
  issuedAt: string | null;
  leafHash?: string;
  statement: string | null;
}

describe('browsing the log', () => {
  let dir: string;
  let log: ReceiptLog;
  let server: Server;
  let base: string;
  const model = new Uint8Array(32).fill(0xab);
  const issued: Array<{ id: string; receipt: string; log: { index: number } }> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-browse-'));
    log = openSqliteLog(join(dir, 'log.db'));
    const { app } = await createVerifier({
      log,
      signer: await openLocalSigner(join(dir, 'keys'), () => AT),
      appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
      issuer: 'http://verifier.test',
      basePolicy: { id: 'p', version: 1, policy: {} },
      clock: () => AT,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Five receipts, three of them for one model.
    for (let i = 0; i < 5; i++) {
      const binding = i % 2 === 0 ? { ...randomBinding(), modelHash: model } : randomBinding();
      const response = await fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: await receiptRequestBody(AT, binding),
      });
      assert.equal(response.status, 201);
      issued.push((await response.json()) as (typeof issued)[number]);
    }
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('lists entries by position with leaf hashes that match their statements', async () => {
    const { status, body } = await get('/v1/log/entries?start=1&count=3');
    assert.equal(status, 200);
    assert.equal(body['size'], 5);
    const entries = body['entries'] as Item[];
    assert.deepEqual(
      entries.map((entry) => [entry.index, entry.id]),
      issued.slice(1, 4).map((receipt) => [receipt.log.index, receipt.id]),
    );
    for (const entry of entries) {
      assert.equal(entry.type, 'veritee.receipt/v2');
      assert.equal(entry.issuedAt, new Date(Math.floor(AT.getTime() / 1000) * 1000).toISOString());
      assert.equal(entry.leafHash, toHex(leafHash((await log.entry(entry.index))!)));
      assert.equal(
        (decodeJwt(entry.statement!)['log'] as { leaf_hash: string }).leaf_hash,
        entry.leafHash,
      );
    }
  });

  it('finds statements by model hash, newest first, a page at a time', async () => {
    const first = await get(`/v1/log/search?model=${toHex(model)}&limit=2`);
    const ids = (body: Record<string, unknown>) =>
      (body['results'] as Item[]).map((item) => item.id);
    assert.deepEqual(ids(first.body), [issued[4]!.id, issued[2]!.id]);
    assert.equal(first.body['next'], issued[2]!.log.index);
    const second = await get(
      `/v1/log/search?model=${toHex(model)}&limit=2&before=${String(first.body['next'])}`,
    );
    assert.deepEqual(ids(second.body), [issued[0]!.id]);
    assert.equal(second.body['next'], null);
    const measurement = (decodeJwt(issued[1]!.receipt)['tee'] as { measurement: string })
      .measurement;
    assert.equal(
      ((await get(`/v1/log/search?measurement=${measurement}`)).body['results'] as Item[]).length,
      5,
      'the simulator quotes one measurement',
    );
    const byId = await get(`/v1/log/search?receipt=${issued[3]!.id}`);
    assert.deepEqual(ids(byId.body), [issued[3]!.id]);
    const unknown = await get('/v1/log/search?receipt=no-such-receipt');
    assert.deepEqual(unknown.body['results'], []);
    const later = await get('/v1/log/search?since=2099-01-01T00:00:00Z');
    assert.deepEqual(later.body['results'], []);
  });

  it('refuses malformed queries with 400 REQUEST_FIELD_INVALID', async () => {
    for (const path of [
      '/v1/log/entries?count=101',
      '/v1/log/entries?start=-1',
      '/v1/log/search?model=XYZ',
      '/v1/log/search?since=yesterday',
      '/v1/log/search?limit=0',
      '/v1/log/search?type=receipt',
    ]) {
      const { status, body } = await get(path);
      assert.equal(status, 400, path);
      assert.equal(body['code'], 'REQUEST_FIELD_INVALID', path);
    }
  });
});
