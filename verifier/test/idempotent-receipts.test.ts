/**
 * One quote and binding get one receipt: the same request replayed, at once
 * or later, by the host or anyone holding it, returns the receipt already
 * issued and never grows the log; nor does the quote with its signature
 * rewritten as (r, n - s), which hashes the same.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSnpReport, serializeSnpReport, SNP_REPORT_SIZE } from '@veritee/attestations/snp';
import { AT, receiptRequestBody, trustWithDev } from '@veritee/mock';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
  type ReceiptLog,
} from '../src/index.js';

const P384_N = BigInt(
  '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
);

/** The same request with the report's s rewritten as n - s (little-endian, 72 bytes). */
function malleated(body: string): string {
  const request = JSON.parse(body) as { evidence: string };
  const evidence = new Uint8Array(Buffer.from(request.evidence, 'base64'));
  const report = parseSnpReport(evidence.subarray(0, SNP_REPORT_SIZE));
  const s = BigInt(`0x${Buffer.from([...report.signatureS].reverse()).toString('hex')}`);
  const flipped = new Uint8Array(
    Buffer.from((P384_N - s).toString(16).padStart(144, '0'), 'hex'),
  ).reverse();
  evidence.set(serializeSnpReport({ ...report, signatureS: flipped }));
  return JSON.stringify({ ...request, evidence: Buffer.from(evidence).toString('base64') });
}

describe('receipts are idempotent', () => {
  let dir: string;
  let log: ReceiptLog;
  let server: Server;
  let base: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-idempotent-'));
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
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = async (body: string) => {
    const response = await fetch(`${base}/v1/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(response.status, 201);
    return (await response.json()) as { id: string; receipt: string; log: { index: number } };
  };

  it('returns the receipt already issued to a replayed request, at once or later', async () => {
    const body = await receiptRequestBody(AT);
    const before = await log.size();
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => post(body)));
    const later = [await post(body), await post(body), await post(malleated(body))];
    const answers = [...concurrent, ...later];
    assert.equal(new Set(answers.map((answer) => answer.id)).size, 1);
    assert.equal(new Set(answers.map((answer) => answer.receipt)).size, 1);
    assert.equal(new Set(answers.map((answer) => answer.log.index)).size, 1);
    assert.equal(await log.size(), before + 1, 'one log entry for eight requests');
    // Another request is another receipt.
    const other = await post(await receiptRequestBody(AT));
    assert.notEqual(other.id, answers[0]!.id);
    assert.equal(await log.size(), before + 2);
  });
});
