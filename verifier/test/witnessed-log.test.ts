/**
 * The log as C2SP serves it, checked by implementations we did not write, and
 * watched by a witness: Go's sumdb/tlog computes proofs from the verifier's
 * tiles and gets the verifier's own proofs byte for byte; a `veritee witness`
 * process cosigns each consistent checkpoint, and refuses forks, rollbacks,
 * strangers and forgeries with the status codes of c2sp.org/tlog-witness.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  formatCheckpoint,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  openNote,
  parseCheckpoint,
  parseNoteVerifier,
  signNote,
} from '@veritee/attestations/tlog';
import { AT } from '@veritee/mock';
import { startWitness } from '@veritee/mock/cli';
import { GO_ORACLE_SKIP, goTlogOracle } from '@veritee/mock/oracles';
import { openSqliteLog } from '../src/log/sqlite-log.js';
import type { ReceiptLog } from '../src/log/receipt-log.js';
import { openLocalSigner } from '../src/signing/local-signer.js';
import { createVerifier } from '../src/verifier.js';
import { appendRecords, record } from './log/log-contract.js';

const noteSigner = noteSignerFromSeed('verifier.test/log', NOTE_SIGNATURE_ED25519, randomBytes(32));

async function startVerifier(
  dir: string,
  log: ReceiptLog,
  witnesses: Parameters<typeof createVerifier>[0]['witnesses'] = [],
) {
  const verifier = await createVerifier({
    log,
    signer: await openLocalSigner(join(dir, 'keys'), () => AT),
    appraiser: {
      appraise: () => Promise.reject(new Error('no appraisal here')),
      close: () => Promise.resolve(),
    },
    issuer: 'https://verifier.test',
    basePolicy: { id: 'test', version: 1, policy: {} },
    clock: () => AT,
    noteSigner,
    witnesses,
    witnessIntervalMs: 3_600_000,
  });
  const server: Server = verifier.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    ...verifier,
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
}

describe('the log as C2SP tiles', () => {
  let dir: string;
  let log: ReceiptLog;
  let verifier: Awaited<ReturnType<typeof startVerifier>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-tiles-'));
    log = openSqliteLog(join(dir, 'log.db'));
    // 70,000 would take a while; 600 spans two full level-0 tiles, a partial one and a partial level-1 tile.
    await appendRecords(
      log,
      Array.from({ length: 600 }, (_, i) => record(i)),
    );
    verifier = await startVerifier(dir, log);
  });
  after(async () => {
    verifier.server.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the checkpoint as a signed note, and tiles only where the tree has grown, cached for good', async () => {
    const response = await fetch(`${verifier.base}/checkpoint`);
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    const opened = openNote(await response.text(), [parseNoteVerifier(noteSigner.vkey)]);
    assert.equal(opened.signatures.length, 1);
    assert.equal(parseCheckpoint(opened.text).size, 600);
    const identity = (await (await fetch(`${verifier.base}/v1/log`)).json()) as {
      origin: string;
      key: string;
    };
    assert.deepEqual(identity, {
      origin: 'verifier.test/log',
      key: noteSigner.vkey,
      witnesses: [],
    });
    for (const [path, status, bytes] of [
      ['tile/0/000', 200, 8192],
      ['tile/0/002.p/88', 200, 88 * 32],
      ['tile/1/000.p/2', 200, 64],
      ['tile/0/002', 404, 0],
      ['tile/0/002.p/89', 404, 0],
      ['tile/1/000.p/3', 404, 0],
      ['tile/entries/002.p/88', 200, undefined],
      ['tile/entries/003.p/1', 404, 0],
      ['tile/0/x000/002', 404, 0],
    ] as const) {
      const tile = await fetch(`${verifier.base}/${path}`);
      assert.equal(tile.status, status, path);
      if (status === 200) {
        assert.equal(tile.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        if (bytes !== undefined) assert.equal((await tile.arrayBuffer()).byteLength, bytes, path);
      }
    }
  });

  it(
    'gives Go sumdb/tlog, reading only tiles, the same proofs as its proof endpoints',
    { skip: GO_ORACLE_SKIP },
    async () => {
      const indexes = [0, 255, 256, 511, 599];
      const go = await goTlogOracle<{
        size: number;
        inclusion: Record<string, string[]>;
        consistency: string[];
      }>({
        op: 'tiles',
        base: verifier.base,
        vkeys: [noteSigner.vkey],
        indexes,
        oldSize: 300,
      });
      assert.equal(go.size, 600);
      const base64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
      for (const index of indexes) {
        const ours = (await (
          await fetch(`${verifier.base}/v1/log/proofs/inclusion?index=${index}&size=600`)
        ).json()) as { path: string[] };
        assert.deepEqual(go.inclusion[String(index)], ours.path.map(base64), `index ${index}`);
      }
      const ours = (await (
        await fetch(`${verifier.base}/v1/log/proofs/consistency?first=300&second=600`)
      ).json()) as { proof: string[] };
      assert.deepEqual(go.consistency, ours.proof.map(base64));
    },
  );
});

describe('a witnessed log', () => {
  let dir: string;
  let log: ReceiptLog;
  let witness: Awaited<ReturnType<typeof startWitness>>;
  let witnessVkey: string;
  let verifier: Awaited<ReturnType<typeof startVerifier>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-witnessed-'));
    log = openSqliteLog(join(dir, 'log.db'));
    witness = await startWitness(join(dir, 'witness'), 'witness.test/w1', noteSigner.vkey);
    witnessVkey = witness.key;
    verifier = await startVerifier(dir, log, [
      { url: witness.url, verifier: parseNoteVerifier(witnessVkey) },
    ]);
  });
  after(async () => {
    verifier.witnessing?.stop();
    verifier.server.close();
    await witness.stop();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const published = async () => {
    const note = await (await fetch(`${verifier.base}/checkpoint`)).text();
    const opened = openNote(note, [noteSigner, parseNoteVerifier(witnessVkey)]);
    return {
      note,
      size: parseCheckpoint(opened.text).size,
      cosigned: opened.signatures.length === 2,
    };
  };

  it('publishes each new checkpoint with the cosignature the witness gave, over rounds as the log grows', async () => {
    for (const count of [3, 1, 250]) {
      const before = await log.size();
      await appendRecords(
        log,
        Array.from({ length: count }, (_, i) => record(`${before}-${i}`)),
      );
      await verifier.witnessing?.round();
      const now = await published();
      assert.deepEqual([now.size, now.cosigned], [before + count, true]);
    }
  });

  it(
    'carries a cosignature Go checks by the tlog-cosignature construction',
    { skip: GO_ORACLE_SKIP },
    async () => {
      const { note } = await published();
      const answer = await goTlogOracle<{ timestamps: Record<string, number> }>({
        op: 'cosignatures',
        note,
        cosigners: [witnessVkey],
      });
      assert.ok((answer.timestamps['witness.test/w1'] ?? 0) > 1_700_000_000);
    },
  );

  it('refuses a fork, a rollback, an unknown log and a forgery with the specified statuses', async () => {
    const { size } = await published();
    const add = (body: string) =>
      fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body }).then(async (response) => ({
        status: response.status,
        type: response.headers.get('content-type'),
        text: await response.text(),
      }));
    const checkpointOf = (signer: typeof noteSigner, treeSize: number, root: Uint8Array) =>
      signNote(
        formatCheckpoint({ origin: signer.name, size: treeSize, rootHash: root, extensions: [] }),
        [signer],
      );
    const proof = async (from: number, to: number) =>
      (await log.consistencyProof(from, to))
        .map((hash) => `${Buffer.from(hash).toString('base64')}\n`)
        .join('');

    // A fork: the same size with another root.
    const forked = checkpointOf(noteSigner, size, randomBytes(32));
    assert.equal((await add(`old ${size}\n\n${forked}`)).status, 409);
    // A grown tree whose root is not consistent with the one cosigned.
    await appendRecords(log, [record('next')]);
    const wrongRoot = checkpointOf(noteSigner, size + 1, randomBytes(32));
    assert.equal(
      (await add(`old ${size}\n${await proof(size, size + 1)}\n${wrongRoot}`)).status,
      422,
    );
    // A rollback: an old size other than the last cosigned gets that size back.
    const stale = await add(
      `old 3\n${await proof(3, size + 1)}\n${checkpointOf(noteSigner, size + 1, await log.root(size + 1))}`,
    );
    assert.deepEqual(stale, { status: 409, type: 'text/x.tlog.size', text: `${size}\n` });
    // A log the witness does not follow, and a checkpoint the log did not sign.
    const stranger = noteSignerFromSeed(
      'stranger.test/log',
      NOTE_SIGNATURE_ED25519,
      randomBytes(32),
    );
    assert.equal((await add(`old 0\n\n${checkpointOf(stranger, 1, randomBytes(32))}`)).status, 404);
    const impostor = noteSignerFromSeed(
      'verifier.test/log',
      NOTE_SIGNATURE_ED25519,
      randomBytes(32),
    );
    assert.equal(
      (await add(`old ${size}\n\n${checkpointOf(impostor, size, randomBytes(32))}`)).status,
      403,
    );
    assert.equal((await add('not a request')).status, 400);
    // After all that, the honest next checkpoint is cosigned.
    await verifier.witnessing?.round();
    assert.deepEqual(await published().then(({ size: now, cosigned }) => [now, cosigned]), [
      size + 1,
      true,
    ]);
  });
});
