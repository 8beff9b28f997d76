/**
 * The log's web page in a real browser (Debian's headless Chromium, driven by
 * playwright-core): a receipt looked up by id passes every check the page runs
 * itself; a receipt with one claim changed fails its signature; recent entries
 * and the history of approved images are listed. A screenshot of each view is
 * kept in test-artifacts/ (CI keeps the directory).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { toHex } from '@veritee/attestations';
import { AT, randomBinding, receiptRequestBody, trustWithDev } from '@veritee/mock';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
  type ReceiptLog,
} from '@veritee/verifier';
import { ROOT } from './source-files.js';

const CHROMIUM = process.env['VERITEE_CHROMIUM'] ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (apt install chromium)`;
if (missing !== undefined && process.env['VERITEE_REQUIRE_BROWSER'] === '1')
  throw new Error(`VERITEE_REQUIRE_BROWSER=1 but ${missing}`);
const ARTIFACTS = join(ROOT, 'test-artifacts');
const ADMIN = 'admin-token-for-the-web-page-test-0123456789';

describe('the log’s web page', { skip: missing ?? false }, () => {
  let dir: string;
  let log: ReceiptLog;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  const receipts: Array<{ id: string; receipt: string }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veritee-web-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    log = openSqliteLog(join(dir, 'log.db'));
    const { app } = await createVerifier({
      log,
      signer: await openLocalSigner(join(dir, 'keys'), () => AT),
      appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
      issuer: 'http://verifier.test',
      basePolicy: { id: 'p', version: 1, policy: {} },
      adminToken: ADMIN,
      clock: () => AT,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Receipts first: once an image is registered, the policy is an allow-list.
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: await receiptRequestBody(AT, randomBinding()),
      });
      assert.equal(response.status, 201);
      receipts.push((await response.json()) as (typeof receipts)[number]);
    }
    const approved = await fetch(`${base}/v1/admin/reference-values`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({
        action: 'register',
        reference: { tee: 'sev-snp', measurement: toHex(new Uint8Array(48).fill(0x5a)) },
      }),
    });
    assert.equal(approved.status, 201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await log?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks a receipt looked up by id, every check in the browser', async () => {
    await page.goto(base);
    await page.fill('#lookup-input', receipts[1]!.id);
    await page.click('button[type=submit]');
    await page.waitForSelector('#verdict');
    assert.equal(await page.textContent('#verdict'), 'VALID: every check passed');
    const labels = await page.locator('ul.checks li').allTextContents();
    assert.deepEqual(
      labels.map((label) => label.split(':')[0]),
      [
        'Signed by this verifier',
        'Its log entry is exactly these claims',
        'The log’s current tree head is signed by the same key',
        'It is in the log',
      ],
    );
    assert.equal(await page.locator('ul.checks li.ok').count(), 4, 'each marked passed');
    assert.match((await page.textContent('#result')) ?? '', /simulated hardware/);
    await page.screenshot({ path: join(ARTIFACTS, 'web-receipt-valid.png'), fullPage: true });
  });

  it('fails a pasted receipt whose claims were changed', async () => {
    const [header, payload, signature] = receipts[0]!.receipt.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as {
      model_hash: string;
    };
    claims.model_hash = 'ff'.repeat(32);
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await page.goto(base);
    await page.fill('#lookup-input', forged);
    await page.click('button[type=submit]');
    await page.waitForSelector('#verdict');
    assert.equal(await page.textContent('#verdict'), 'INVALID: a check failed');
    assert.match(
      (await page.textContent('ul.checks li.fail')) ?? '',
      /Signed by this verifier: the signature does not verify/,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'web-receipt-forged.png'), fullPage: true });
  });

  it('lists recent entries and the approved images', async () => {
    await page.goto(base);
    await page.waitForSelector('#recent-rows tr');
    const rows = await page.locator('#recent-rows tr').allTextContents();
    assert.equal(rows.length, 4, 'three receipts and one policy change');
    // Newest first: the policy change, then the last receipt.
    assert.match(rows[0] ?? '', /veritee\.policy-change\/v1/);
    assert.ok((rows[1] ?? '').includes(receipts[2]!.id));
    const images = await page.textContent('#image-rows');
    assert.match(images ?? '', /register/);
    assert.match(images ?? '', /5a5a5a/);
    await page.screenshot({ path: join(ARTIFACTS, 'web-browse.png'), fullPage: true });
  });
});
