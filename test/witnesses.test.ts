/**
 * Split views caught by witnesses: three `veritee witness` processes follow
 * one log. With one of them down, a relying party requiring two
 * cosignatures still accepts the honest log's receipts. A second log
 * instance run under the same keys (a fork: the same size with another root,
 * or a rollback to a smaller size) gets no cosignature, and the same relying
 * party refuses its receipts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  openNote,
  parseCheckpoint,
  parseNoteVerifier,
} from '@veritee/attestations/tlog';
import { AT, receiptRequestBody, trustWithDev } from '@veritee/mock';
import { lastJson, runCli, startWitness } from '@veritee/mock/cli';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
} from '@veritee/verifier';

const logKey = noteSignerFromSeed('split.test/log', NOTE_SIGNATURE_ED25519, randomBytes(32));
type Witness = Awaited<ReturnType<typeof startWitness>>;

/** A log instance: its own store, the shared signing and note keys, the one issuer relying parties pin. */
async function startLog(
  dir: string,
  keys: string,
  issuer: string,
  witnesses: readonly Witness[],
  server: Server,
) {
  const log = openSqliteLog(join(dir, 'log.db'));
  const verifier = await createVerifier({
    log,
    signer: await openLocalSigner(keys, () => AT),
    appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
    issuer,
    basePolicy: { id: 'p', version: 1, policy: {} },
    clock: () => AT,
    noteSigner: logKey,
    witnesses: witnesses.map((witness) => ({
      url: witness.url,
      verifier: parseNoteVerifier(witness.key),
    })),
    witnessIntervalMs: 3_600_000,
  });
  server.on('request', verifier.app);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    log,
    base,
    round: () => verifier.witnessing?.round() ?? Promise.resolve(),
    stop: () => verifier.witnessing?.stop(),
    async issue(): Promise<{ receipt: string; index: number }> {
      const response = await fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: await receiptRequestBody(AT),
      });
      assert.equal(response.status, 201);
      const answer = (await response.json()) as { receipt: string; log: { index: number } };
      return { receipt: answer.receipt, index: answer.log.index };
    },
    async cosigners(): Promise<{ size: number; count: number }> {
      const note = await (await fetch(`${base}/checkpoint`)).text();
      const opened = openNote(
        note,
        witnesses.map((witness) => parseNoteVerifier(witness.key)),
      );
      return { size: parseCheckpoint(opened.text).size, count: opened.signatures.length };
    },
  };
}

async function listen(): Promise<Server> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

describe('witnesses against a split view', () => {
  let dir: string;
  let witnesses: Witness[];
  let honest: Awaited<ReturnType<typeof startLog>>;
  const servers: Server[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-split-'));
    witnesses = await Promise.all(
      [1, 2, 3].map((n) => startWitness(join(dir, `w${n}`), `witness.test/w${n}`, logKey.vkey)),
    );
    const server = await listen();
    servers.push(server);
    await mkdir(join(dir, 'honest'));
    honest = await startLog(
      join(dir, 'honest'),
      join(dir, 'keys'),
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      witnesses,
      server,
    );
  });
  after(async () => {
    honest?.stop();
    for (const server of servers) server.close();
    await Promise.all((witnesses ?? []).map((witness) => witness.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  /** Another log instance under the honest one's keys and issuer, in `name`, asking two witnesses. */
  async function impostor(name: string, store?: string) {
    const server = await listen();
    servers.push(server);
    await mkdir(join(dir, name));
    if (store !== undefined) await cp(store, join(dir, name, 'log.db'));
    return startLog(join(dir, name), join(dir, 'keys'), honest.base, witnesses.slice(0, 2), server);
  }

  /** `veritee receipt verify` offline, as a relying party pinned to the honest verifier, requiring K of the three. */
  async function relyingParty(
    receipt: string,
    index: number,
    from: { base: string },
    required: number,
  ) {
    const files = {
      receipt: join(dir, 'r.jws'),
      jwks: join(dir, 'jwks.json'),
      checkpoint: join(dir, 'checkpoint.txt'),
      proof: join(dir, 'proof.json'),
    };
    const checkpoint = await (await fetch(`${from.base}/checkpoint`)).text();
    const size = Number(checkpoint.split('\n')[1]);
    await writeFile(files.receipt, receipt);
    await writeFile(files.jwks, await (await fetch(`${honest.base}/.well-known/jwks.json`)).text());
    await writeFile(files.checkpoint, checkpoint);
    await writeFile(
      files.proof,
      await (
        await fetch(`${from.base}/v1/log/proofs/inclusion?index=${index}&size=${size}`)
      ).text(),
    );
    return runCli(
      [
        'receipt',
        'verify',
        files.receipt,
        '--jwks',
        files.jwks,
        '--log-key',
        logKey.vkey,
        '--checkpoint',
        files.checkpoint,
        '--proof',
        files.proof,
        '--allow-simulated',
        '--json',
        ...witnesses.flatMap((witness) => ['--witness', witness.key]),
        '--witnesses-required',
        String(required),
      ],
      { VERITEE_HOME: join(dir, 'rp') },
    );
  }

  it('accepts with two of three cosignatures while one witness is down', async () => {
    for (let i = 0; i < 3; i++) await honest.issue();
    await honest.round();
    assert.deepEqual(await honest.cosigners(), { size: 3, count: 3 });
    await witnesses[2]!.stop();
    const { receipt, index } = await honest.issue();
    await honest.round();
    assert.deepEqual(await honest.cosigners(), { size: 4, count: 2 });
    const result = await relyingParty(receipt, index, honest, 2);
    assert.equal(result.status, 0, result.stdout);
    assert.equal(lastJson<{ witnesses: string[] }>(result.stdout).witnesses.length, 2);
    const strict = await relyingParty(receipt, index, honest, 3);
    assert.deepEqual(lastJson<{ codes: string[] }>(strict.stdout).codes, [
      'RECEIPT_WITNESSES_MISSING',
    ]);
  });

  it('gives a forked log no cosignature, and the relying party refuses its receipts', async () => {
    // The same keys and issuer, another store: four entries, like the honest log, but others.
    const fork = await impostor('fork');
    for (let i = 0; i < 4; i++) await fork.issue();
    await fork.round();
    assert.deepEqual(await fork.cosigners(), { size: 4, count: 0 }, 'same size, another root');
    const last = await fork.issue();
    await fork.round();
    assert.deepEqual(
      await fork.cosigners(),
      { size: 5, count: 0 },
      'grown from a root no witness saw',
    );
    const refused = await relyingParty(last.receipt, last.index, fork, 2);
    assert.equal(refused.status, 1, refused.stdout);
    assert.deepEqual(lastJson<{ codes: string[] }>(refused.stdout).codes, [
      'RECEIPT_WITNESSES_MISSING',
    ]);
    fork.stop();
    await fork.log.close();
  });

  it('gives a log rolled back to a smaller size no cosignature', async () => {
    // The honest store as it was at size 3, copied aside before it grew further.
    await cp(join(dir, 'honest', 'log.db'), join(dir, 'rolled.db'));
    for (let i = 0; i < 2; i++) await honest.issue();
    await honest.round();
    const { size } = await honest.cosigners();
    const rolled = await impostor('rolled', join(dir, 'rolled.db'));
    await rolled.round();
    const seen = await rolled.cosigners();
    assert.ok(seen.size < size, `${seen.size} < ${size}`);
    assert.equal(seen.count, 0);
    rolled.stop();
    await rolled.log.close();
  });
});
