/**
 * A relying party's check, across components: verifiers issue receipts over
 * real HTTP; the `veritee receipt verify` command, in its own process, checks
 * them against the verifier the relying party pinned (offline from files, or
 * online), and refuses a receipt from any other verifier, whatever it names;
 * a tampered receipt, a foreign JWKS and a proof for another index; a
 * simulated receipt unless allowed; and keys the verifier added later until
 * they are accepted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AT, trustWithDev, receiptRequestBody, randomBinding } from '@veritee/mock';
import { commitInput, hashOutput, type Binding } from '@veritee/attestations/wire';
import { lastJson, runCli, startWitness } from '@veritee/mock/cli';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  parseNoteVerifier,
} from '@veritee/attestations/tlog';
import {
  openSqliteLog,
  openLocalSigner,
  createInlineAppraiser,
  createVerifier,
  type ReceiptLog,
  type Signer,
} from '@veritee/verifier';

/** Closes a server, dropping idle keep-alive connections so it stops at once. */
function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface RunningVerifier {
  readonly server: Server;
  readonly base: string;
  readonly log: ReceiptLog;
  readonly signer: Signer;
  issue(binding?: Binding): Promise<string>;
}

async function startVerifier(
  dir: string,
  options: Pick<Parameters<typeof createVerifier>[0], 'witnesses' | 'noteSigner'> = {},
): Promise<RunningVerifier & { round(): Promise<void> }> {
  await mkdir(dir, { recursive: true });
  const log = openSqliteLog(join(dir, 'log.db'));
  const signer = await openLocalSigner(join(dir, 'keys'), () => AT);
  // Listen first: the receipts' issuer must be where the verifier answers.
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { app, witnessing } = await createVerifier({
    log,
    signer,
    appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
    issuer: base,
    basePolicy: { id: 'p', version: 1, policy: {} },
    clock: () => AT,
    ...options,
    witnessIntervalMs: 3_600_000,
  });
  server.once('close', () => witnessing?.stop());
  server.on('request', app);
  return {
    server,
    base,
    log,
    signer,
    round: () => witnessing?.round() ?? Promise.resolve(),
    async issue(binding?: Binding) {
      const response = await fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: await receiptRequestBody(AT, binding),
      });
      assert.equal(response.status, 201);
      return ((await response.json()) as { receipt: string }).receipt;
    },
  };
}

const indexOf = (receipt: string) =>
  (
    JSON.parse(Buffer.from(receipt.split('.')[1] ?? '', 'base64url').toString()) as {
      log: { index: number };
    }
  ).log.index;

const codesOf = (stdout: string) => lastJson<{ codes: string[] }>(stdout).codes;

describe('veritee receipt verify', () => {
  let dir: string;
  let home: string;
  let real: RunningVerifier;
  let forger: RunningVerifier;
  let witnessed: Awaited<ReturnType<typeof startVerifier>>;
  let witness: Awaited<ReturnType<typeof startWitness>>;
  let witnessKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-rp-'));
    home = join(dir, 'home');
    real = await startVerifier(join(dir, 'real'));
    forger = await startVerifier(join(dir, 'forger'));
  });
  after(async () => {
    await witness?.stop();
    for (const verifier of [real, forger, ...(witnessed === undefined ? [] : [witnessed])]) {
      if (verifier.server.listening) await stop(verifier.server);
      await verifier.log.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** Saves a receipt with the JWKS, checkpoint and proof that let it be checked offline. */
  async function filesFor(verifier: RunningVerifier, receipt: string, name: string) {
    const checkpoint = (await (await fetch(`${verifier.base}/v1/log/checkpoint`)).json()) as {
      size: number;
    };
    const files = {
      receipt: join(dir, `${name}.jws`),
      jwks: join(dir, `${name}-jwks.json`),
      checkpoint: join(dir, `${name}-checkpoint.json`),
      proof: join(dir, `${name}-proof.json`),
    };
    await writeFile(files.receipt, receipt);
    await writeFile(
      files.jwks,
      await (await fetch(`${verifier.base}/.well-known/jwks.json`)).text(),
    );
    await writeFile(files.checkpoint, JSON.stringify(checkpoint));
    await writeFile(
      files.proof,
      await (
        await fetch(
          `${verifier.base}/v1/log/proofs/inclusion?index=${indexOf(receipt)}&size=${checkpoint.size}`,
        )
      ).text(),
    );
    return files;
  }

  const cli = (...args: string[]) =>
    runCli(['receipt', 'verify', ...args, '--json'], { VERITEE_HOME: home });

  it('verifies a receipt offline from files, and online against the verifier it pins', async () => {
    await real.issue();
    const receipt = await real.issue();
    await real.issue();
    const files = await filesFor(real, receipt, 'real');
    const offlineFiles = (jwks = files.jwks, proof = files.proof, receiptFile = files.receipt) => [
      receiptFile,
      '--jwks',
      jwks,
      '--checkpoint',
      files.checkpoint,
      '--proof',
      proof,
      '--allow-simulated',
    ];

    // Offline: the verifier is stopped for this run.
    await stop(real.server);
    const offline = await cli(...offlineFiles());
    assert.equal(offline.status, 0, offline.stdout + offline.stderr);
    const verdict = lastJson<{ valid: boolean; issuer: string; key: { kid: string } }>(
      offline.stdout,
    );
    assert.equal(verdict.valid, true);
    assert.equal(verdict.issuer, real.base);
    assert.equal(verdict.key.kid, real.signer.jwks().keys[0]!.kid);
    real.server.listen(Number(new URL(real.base).port), '127.0.0.1');
    await new Promise((resolve) => real.server.once('listening', resolve));

    // Online: --issuer pins the verifier's keys in the trust file, once.
    const online = await cli(files.receipt, '--issuer', real.base, '--allow-simulated');
    assert.equal(online.status, 0, online.stdout + online.stderr);
    assert.match(online.stderr, /^pinned +http:\/\/127\.0\.0\.1:\d+: key \S+ [A-Za-z0-9_-]{43}$/m);
    const trust = JSON.parse(await readFile(join(home, 'trusted-verifiers.json'), 'utf8')) as {
      verifiers: Array<{ issuer: string }>;
    };
    assert.deepEqual(
      trust.verifiers.map((entry) => entry.issuer),
      [real.base],
    );

    // Pinned: the receipt's own issuer is trusted because the relying party pinned it, offline too.
    await stop(real.server);
    const pinnedOffline = await cli(
      files.receipt,
      '--checkpoint',
      files.checkpoint,
      '--proof',
      files.proof,
      '--allow-simulated',
    );
    assert.equal(pinnedOffline.status, 0, pinnedOffline.stdout + pinnedOffline.stderr);
    real.server.listen(Number(new URL(real.base).port), '127.0.0.1');
    await new Promise((resolve) => real.server.once('listening', resolve));

    // Simulated receipts need saying so.
    const hardwareOnly = await cli(...offlineFiles().slice(0, -1));
    assert.deepEqual(codesOf(hardwareOnly.stdout), ['RECEIPT_SIMULATED_REFUSED']);

    const parts = receipt.split('.');
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const tamperedFile = join(dir, 'tampered.jws');
    await writeFile(
      tamperedFile,
      [
        parts[0],
        Buffer.from(JSON.stringify({ ...claims, model_hash: '00'.repeat(32) })).toString(
          'base64url',
        ),
        parts[2],
      ].join('.'),
    );
    const tampered = await cli(...offlineFiles(files.jwks, files.proof, tamperedFile));
    assert.equal(tampered.status, 1);
    assert.deepEqual(codesOf(tampered.stdout), ['RECEIPT_BAD_SIGNATURE']);

    const wrongProof = join(dir, 'wrong-proof.json');
    await writeFile(
      wrongProof,
      await (
        await fetch(
          `${real.base}/v1/log/proofs/inclusion?index=${indexOf(receipt) === 0 ? 1 : 0}&size=3`,
        )
      ).text(),
    );
    const misplaced = await cli(...offlineFiles(files.jwks, wrongProof));
    assert.deepEqual(codesOf(misplaced.stdout), ['RECEIPT_NOT_IN_LOG']);

    const foreign = join(dir, 'foreign-jwks.json');
    const other = await openLocalSigner(join(dir, 'other-keys'), () => AT);
    await writeFile(foreign, JSON.stringify(other.jwks()));
    const unknownKey = await cli(...offlineFiles(foreign));
    assert.deepEqual(codesOf(unknownKey.stdout), ['RECEIPT_ISSUER_UNTRUSTED']);
  });

  it('refuses a receipt from an unrelated verifier that serves its own key, online and offline', async () => {
    const forged = await forger.issue();
    const files = await filesFor(forger, forged, 'forged');
    const realJwks = join(dir, 'real-jwks.json');
    await writeFile(realJwks, await (await fetch(`${real.base}/.well-known/jwks.json`)).text());
    const attempts = [
      // Trusting whatever the receipt names is gone: an unpinned issuer is refused.
      [files.receipt, '--allow-simulated'],
      // Online against the pinned verifier.
      [files.receipt, '--issuer', real.base, '--allow-simulated'],
      // Offline with the real verifier's keys and the forger's own checkpoint and proof.
      [
        files.receipt,
        '--jwks',
        realJwks,
        '--checkpoint',
        files.checkpoint,
        '--proof',
        files.proof,
        '--allow-simulated',
      ],
      // The forger's keys from a file, but the issuer the relying party trusts named.
      [
        files.receipt,
        '--jwks',
        files.jwks,
        '--issuer',
        real.base,
        '--checkpoint',
        files.checkpoint,
        '--proof',
        files.proof,
        '--allow-simulated',
      ],
    ];
    for (const args of attempts) {
      const result = await cli(...args);
      assert.equal(result.status, 1, args.join(' '));
      assert.deepEqual(codesOf(result.stdout), ['RECEIPT_ISSUER_UNTRUSTED'], args.join(' '));
    }
  });

  it('refuses keys a pinned verifier added later until they are accepted', async () => {
    const pinnedFirst = await cli(
      await (async () => {
        const file = join(dir, 'before-rotation.jws');
        await writeFile(file, await real.issue());
        return file;
      })(),
      '--issuer',
      real.base,
      '--allow-simulated',
    );
    assert.equal(pinnedFirst.status, 0, pinnedFirst.stdout + pinnedFirst.stderr);
    await real.signer.rotate();
    const rotated = join(dir, 'after-rotation.jws');
    await writeFile(rotated, await real.issue());
    const refused = await cli(rotated, '--issuer', real.base, '--allow-simulated');
    assert.equal(refused.status, 1);
    assert.deepEqual(codesOf(refused.stdout), ['RECEIPT_ISSUER_KEYS_CHANGED']);
    assert.match(refused.stderr, /^new key +\S+ [A-Za-z0-9_-]{43}$/m);
    const accepted = await cli(
      rotated,
      '--issuer',
      real.base,
      '--allow-simulated',
      '--accept-new-keys',
    );
    assert.equal(accepted.status, 0, accepted.stdout + accepted.stderr);
    const trust = JSON.parse(await readFile(join(home, 'trusted-verifiers.json'), 'utf8')) as {
      verifiers: Array<{ jwks: { keys: Array<{ exp?: number }> } }>;
    };
    const keys = trust.verifiers[0]!.jwks.keys;
    assert.equal(keys.length, 2);
    assert.equal(
      keys.filter((key) => typeof key.exp === 'number').length,
      1,
      'the old key is retired',
    );
  });

  it('requires the cosignatures of the witnesses named, and says which cosigned', async () => {
    const logKey = noteSignerFromSeed('receipts.test/log', NOTE_SIGNATURE_ED25519, randomBytes(32));
    witness = await startWitness(join(dir, 'w1'), 'witness.test/w1', logKey.vkey);
    witnessKey = witness.key;
    witnessed = await startVerifier(join(dir, 'witnessed'), {
      noteSigner: logKey,
      witnesses: [{ url: witness.url, verifier: parseNoteVerifier(witnessKey) }],
    });
    const receipt = await witnessed.issue();
    await witnessed.round();
    const file = join(dir, 'witnessed.jws');
    await writeFile(file, receipt);
    const ok = await cli(
      file,
      '--issuer',
      witnessed.base,
      '--allow-simulated',
      '--witness',
      witnessKey,
    );
    assert.equal(ok.status, 0, ok.stdout);
    assert.match(ok.stderr, /witnesses +cosigned by witness\.test\/w1/);
    assert.deepEqual(lastJson<{ witnesses: string[] }>(ok.stdout).witnesses, ['witness.test/w1']);
    // A witness that never cosigned this log: two required, one present.
    const absent = noteSignerFromSeed(
      'witness.test/absent',
      NOTE_SIGNATURE_COSIGNATURE_V1,
      randomBytes(32),
    ).vkey;
    const missing = await cli(
      file,
      '--issuer',
      witnessed.base,
      '--allow-simulated',
      '--witness',
      witnessKey,
      '--witness',
      absent,
    );
    assert.equal(missing.status, 1, missing.stdout);
    assert.deepEqual(codesOf(missing.stdout), ['RECEIPT_WITNESSES_MISSING']);
  });

  it('bundles a witnessed receipt into one file that verifies with no network, with the answer and prompt it commits to', async () => {
    const prompt = new TextEncoder().encode('what the enterprise asked');
    const salt = randomBytes(32);
    const output = '{"label":"benign"}';
    const receipt = await witnessed.issue({
      ...randomBinding(),
      inputCommitment: commitInput(salt, prompt),
      outputHash: hashOutput(new TextEncoder().encode(output)),
    });
    await witnessed.round();
    const files = {
      receipt: join(dir, 'bundled.jws'),
      bundle: join(dir, 'bundled.bundle.json'),
      prompt: join(dir, 'prompt.txt'),
      output: join(dir, 'output.json'),
      wrong: join(dir, 'wrong.json'),
    };
    await writeFile(files.receipt, receipt);
    await writeFile(files.prompt, prompt);
    await writeFile(files.output, output);
    await writeFile(files.wrong, '{"label":"injection"}');
    const made = await runCli(
      [
        'receipt',
        'bundle',
        files.receipt,
        '--out',
        files.bundle,
        '--issuer',
        witnessed.base,
        '--allow-simulated',
        '--witness',
        witnessKey,
      ],
      { VERITEE_HOME: home },
    );
    assert.equal(made.status, 0, made.stdout + made.stderr);
    const bundle = JSON.parse(await readFile(files.bundle, 'utf8')) as Record<string, unknown>;
    assert.equal(bundle['format'], 'veritee.receipt-bundle/v1');
    assert.match(String(bundle['checkpoint']), /\n— witness\.test\/w1 /, 'the cosignature is kept');

    // No network from here: the verifier and the witness are gone.
    await stop(witnessed.server);
    await witness.stop();
    const offline = (...args: string[]) =>
      cli('--bundle', files.bundle, '--allow-simulated', '--witness', witnessKey, ...args);
    const ok = await offline(
      '--output',
      files.output,
      '--prompt-file',
      files.prompt,
      '--salt',
      salt.toString('hex'),
    );
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.deepEqual(lastJson<{ witnesses: string[] }>(ok.stdout).witnesses, ['witness.test/w1']);
    const wrongOutput = await offline('--output', files.wrong);
    assert.deepEqual(codesOf(wrongOutput.stdout), ['RECEIPT_OUTPUT_MISMATCH']);
    const wrongSalt = await offline(
      '--prompt-file',
      files.prompt,
      '--salt',
      randomBytes(32).toString('hex'),
    );
    assert.deepEqual(codesOf(wrongSalt.stdout), ['RECEIPT_INPUT_MISMATCH']);

    // The bundle's own key is not trust: unpinned, it is refused unless its thumbprint is given.
    const stranger = await runCli(
      ['receipt', 'verify', '--bundle', files.bundle, '--allow-simulated', '--json'],
      { VERITEE_HOME: join(dir, 'stranger-home') },
    );
    assert.deepEqual(codesOf(stranger.stdout), ['RECEIPT_ISSUER_UNTRUSTED']);
    const key = bundle['key'] as JWK;
    const byThumbprint = await runCli(
      [
        'receipt',
        'verify',
        '--bundle',
        files.bundle,
        '--allow-simulated',
        // With "=": a base64url thumbprint may start with "-".
        `--key-thumbprint=${await calculateJwkThumbprint(key, 'sha256')}`,
        '--log-key',
        String(bundle['logKey']),
        '--json',
      ],
      { VERITEE_HOME: join(dir, 'stranger-home') },
    );
    assert.equal(byThumbprint.status, 0, byThumbprint.stdout + byThumbprint.stderr);

    // A bundle whose receipt was swapped for another verifier's fails on its signature.
    const swapped = join(dir, 'swapped.bundle.json');
    await writeFile(swapped, JSON.stringify({ ...bundle, receipt: await forger.issue() }));
    const refused = await cli('--bundle', swapped, '--allow-simulated');
    assert.equal(refused.status, 1, refused.stdout);
    assert.notDeepEqual(codesOf(refused.stdout), []);
  });
});
