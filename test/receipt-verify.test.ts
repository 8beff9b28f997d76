/**
 * A relying party's check, across components: the verifier issues a receipt
 * over real HTTP; the `veritee receipt verify` command, in its own process,
 * verifies it offline from files and online from the verifier, and refuses a
 * tampered receipt, a foreign JWKS and a proof for another index.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AT, trustWithDev, receiptRequestBody } from '@veritee/mock';
import { lastJson, runCli } from '@veritee/mock/cli';
import {
  openSqliteLog,
  type ReceiptLog,
  openLocalSigner,
  createInlineAppraiser,
  createVerifier,
} from '@veritee/verifier';

/** Closes a server, dropping idle keep-alive connections so it stops at once. */
function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('veritee receipt verify', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let log: ReceiptLog;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-rp-'));
    log = openSqliteLog(join(dir, 'log.db'));
    const signer = await openLocalSigner(join(dir, 'keys'), () => AT);
    // Listen first: the receipts' issuer must be where the verifier answers.
    server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { app } = await createVerifier({
      log,
      signer,
      appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
      issuer: base,
      basePolicy: { id: 'p', version: 1, policy: {} },
      clock: () => AT,
    });
    server.on('request', app);
  });
  after(async () => {
    await stop(server);
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function issue(): Promise<string> {
    const response = await fetch(`${base}/v1/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: await receiptRequestBody(AT),
    });
    assert.equal(response.status, 201);
    return ((await response.json()) as { receipt: string }).receipt;
  }

  it('verifies a receipt offline from files, and online from its issuer', async () => {
    await issue();
    const receipt = await issue();
    await issue();
    const index = (
      JSON.parse(Buffer.from(receipt.split('.')[1] ?? '', 'base64url').toString()) as {
        log: { index: number };
      }
    ).log.index;
    const checkpoint = (await (await fetch(`${base}/v1/log/checkpoint`)).json()) as {
      size: number;
      checkpoint: string;
    };
    const files = {
      receipt: join(dir, 'receipt.jws'),
      jwks: join(dir, 'jwks.json'),
      checkpoint: join(dir, 'checkpoint.json'),
      proof: join(dir, 'proof.json'),
    };
    await writeFile(files.receipt, receipt);
    await writeFile(files.jwks, await (await fetch(`${base}/.well-known/jwks.json`)).text());
    await writeFile(files.checkpoint, JSON.stringify(checkpoint));
    await writeFile(
      files.proof,
      await (
        await fetch(`${base}/v1/log/proofs/inclusion?index=${index}&size=${checkpoint.size}`)
      ).text(),
    );

    /** The CLI with every input from files: no network. */
    const offlineCheck = (receiptFile: string, jwksFile = files.jwks, proofFile = files.proof) =>
      runCli([
        'receipt',
        'verify',
        receiptFile,
        '--jwks',
        jwksFile,
        '--checkpoint',
        files.checkpoint,
        '--proof',
        proofFile,
        '--json',
      ]);

    // Offline: the verifier is stopped for this run.
    await stop(server);
    const offline = await offlineCheck(files.receipt);
    assert.equal(offline.status, 0, offline.stdout + offline.stderr);
    assert.equal(lastJson<{ valid: boolean }>(offline.stdout).valid, true);
    server.listen(Number(new URL(base).port), '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));

    const online = await runCli(['receipt', 'verify', files.receipt, '--json']);
    assert.equal(online.status, 0, online.stdout + online.stderr);

    const parts = receipt.split('.');
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    await writeFile(
      files.receipt,
      [
        parts[0],
        Buffer.from(JSON.stringify({ ...claims, model_hash: '00'.repeat(32) })).toString(
          'base64url',
        ),
        parts[2],
      ].join('.'),
    );
    const tampered = await offlineCheck(files.receipt);
    assert.equal(tampered.status, 1);
    assert.deepEqual(lastJson<{ codes: string[] }>(tampered.stdout).codes, [
      'RECEIPT_BAD_SIGNATURE',
    ]);

    await writeFile(files.receipt, receipt);
    const wrongProof = join(dir, 'wrong-proof.json');
    await writeFile(
      wrongProof,
      await (
        await fetch(
          `${base}/v1/log/proofs/inclusion?index=${index === 0 ? 1 : 0}&size=${checkpoint.size}`,
        )
      ).text(),
    );
    const misplaced = await offlineCheck(files.receipt, files.jwks, wrongProof);
    assert.deepEqual(lastJson<{ codes: string[] }>(misplaced.stdout).codes, ['RECEIPT_NOT_IN_LOG']);

    const foreign = join(dir, 'foreign-jwks.json');
    const other = await openLocalSigner(join(dir, 'other-keys'), () => AT);
    await writeFile(foreign, JSON.stringify(other.jwks()));
    const unknownKey = await offlineCheck(files.receipt, foreign);
    assert.deepEqual(lastJson<{ codes: string[] }>(unknownKey.stdout).codes, [
      'RECEIPT_BAD_SIGNATURE',
    ]);
  });
});
