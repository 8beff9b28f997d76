/**
 * The real verifier process over real HTTP: killed with SIGKILL in the middle
 * of a stream of appends, it restarts with every acknowledged receipt present
 * and a tree consistent with every checkpoint it signed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactVerify, createLocalJWKSet } from 'jose';
import { fromHex } from '@veritee/attestations';
import { defaultTrustStore } from '@veritee/attestations/evidence';
import { verifyConsistency } from '@veritee/attestations/merkle';
import { type CheckpointClaims } from '@veritee/attestations/receipt';
import {
  formatNoteSignerKey,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  openNote,
  parseNoteVerifier,
} from '@veritee/attestations/tlog';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { DEV_PKI_PATH, receiptRequestBody } from '@veritee/mock';
import { localKmsClient, startLocalKms } from '@veritee/mock/kms';
import { createTestDatabase, POSTGRES_SKIP } from '@veritee/mock/postgres';

const main = resolve(fileURLToPath(import.meta.url), '../../src/main.ts');

// A fixed port, so a restart listens where the first start did: below Linux's
// ephemeral range (32768 and up), so no outgoing connection can be holding it.
const randomPort = () => 20000 + Math.floor(Math.random() * 12000);

function start(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=veritee-source', '--import', 'tsx', main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  return new Promise((resolveStart, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolveStart(child);
    });
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('exit', () => reject(new Error(`verifier exited: ${output}${errors.slice(-500)}`)));
  });
}

describe('verifier process', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-verifier-main-'));
    await copyFile(DEV_PKI_PATH, join(dir, 'dev-pki.json'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const store of ['SQLite', 'PostgreSQL'] as const)
    it(
      `keeps every acknowledged receipt and stays consistent with its checkpoints across SIGKILL (${store})`,
      { skip: store === 'PostgreSQL' && POSTGRES_SKIP },
      async () => {
        const database = store === 'PostgreSQL' ? await createTestDatabase() : undefined;
        after(() => database?.drop());
        const port = randomPort();
        const env = {
          VERITEE_VERIFIER_LISTEN: `127.0.0.1:${port}`,
          VERITEE_VERIFIER_DATA: join(dir, `data-${store}`),
          VERITEE_HOME: dir,
          VERITEE_ALLOW_SIMULATED: '1',
          VERITEE_RECEIPTS_OPEN: '1',
          ...(database === undefined ? {} : { VERITEE_DATABASE_URL: database.url }),
        };
        const base = `http://127.0.0.1:${port}`;
        // Quotes are made now: the verifier checks them against its own clock.
        const at = new Date();
        const bodies = await Promise.all(Array.from({ length: 40 }, () => receiptRequestBody(at)));

        let verifier = await start(env);
        const acknowledged: string[] = [];
        const checkpoints: string[] = [];
        let killed = false;
        const stream = (async () => {
          for (const [index, body] of bodies.entries()) {
            if (index === 25) {
              killed = true;
              verifier.kill('SIGKILL');
            }
            try {
              const response = await fetch(`${base}/v1/receipts`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body,
              });
              if (response.status === 201)
                acknowledged.push(((await response.json()) as { id: string }).id);
              if (index % 5 === 0)
                checkpoints.push(
                  (
                    (await (await fetch(`${base}/v1/log/checkpoint`)).json()) as {
                      checkpoint: string;
                    }
                  ).checkpoint,
                );
            } catch {
              assert.ok(killed, 'requests fail only once the process is killed');
            }
          }
        })();
        await stream;
        assert.ok(acknowledged.length >= 20, `acknowledged ${acknowledged.length}`);

        verifier = await start(env);
        try {
          for (const id of acknowledged)
            assert.equal((await fetch(`${base}/v1/receipts/${id}`)).status, 200, id);
          const jwks = createLocalJWKSet(
            (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: [] },
          );
          const now = JSON.parse(
            new TextDecoder().decode(
              (
                await compactVerify(
                  (
                    (await (await fetch(`${base}/v1/log/checkpoint`)).json()) as {
                      checkpoint: string;
                    }
                  ).checkpoint,
                  jwks,
                )
              ).payload,
            ),
          ) as CheckpointClaims;
          assert.ok(now.size >= acknowledged.length);
          for (const signed of checkpoints) {
            const old = JSON.parse(
              new TextDecoder().decode((await compactVerify(signed, jwks)).payload),
            ) as CheckpointClaims;
            if (old.size === 0) continue;
            const { proof } = (await (
              await fetch(`${base}/v1/log/proofs/consistency?first=${old.size}&second=${now.size}`)
            ).json()) as { proof: string[] };
            assert.ok(
              verifyConsistency(
                old.size,
                now.size,
                proof.map((hex) => fromHex(hex)!),
                fromHex(old.root)!,
                fromHex(now.root)!,
              ),
              `${old.size} -> ${now.size}`,
            );
          }
        } finally {
          verifier.kill('SIGTERM');
        }
      },
    );

  it('signs receipts with an AWS KMS key when VERITEE_KMS_KEY_ID names one', async () => {
    const kms = await startLocalKms({ trust: defaultTrustStore() });
    const client = localKmsClient(kms.endpoint);
    const keyId = (
      await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    ).KeyMetadata!.KeyId!;
    const port = randomPort();
    const verifier = await start({
      VERITEE_VERIFIER_LISTEN: `127.0.0.1:${port}`,
      VERITEE_VERIFIER_DATA: join(dir, 'data-kms'),
      VERITEE_HOME: dir,
      VERITEE_ALLOW_SIMULATED: '1',
      VERITEE_RECEIPTS_OPEN: '1',
      VERITEE_KMS_KEY_ID: keyId,
      VERITEE_KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      const response = await fetch(`${base}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: await receiptRequestBody(new Date()),
      });
      assert.equal(response.status, 201);
      const { receipt } = (await response.json()) as { receipt: string };
      const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: [] };
      const { protectedHeader } = await compactVerify(receipt, createLocalJWKSet(jwks));
      assert.match(String(protectedHeader.kid), /^kms-/);
      assert.ok(kms.calls.includes('Sign'), 'the receipt was signed through KMS');
    } finally {
      verifier.kill('SIGTERM');
      client.destroy();
      await kms.close();
    }
  });

  it('issues receipts only to hosts holding a token whose digest it was given, two at a time for rotation', async () => {
    const port = randomPort();
    const tokens = ['host-a-token-0123456789abcdef', 'host-a-next-token-0123456789'];
    const digest = (token: string) => createHash('sha256').update(token).digest('hex');
    const verifier = await start({
      VERITEE_VERIFIER_LISTEN: `127.0.0.1:${port}`,
      VERITEE_VERIFIER_DATA: join(dir, 'data-tokens'),
      VERITEE_HOME: dir,
      VERITEE_ALLOW_SIMULATED: '1',
      VERITEE_RECEIPT_TOKEN_HASHES: tokens.map(digest).join(','),
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      const post = async (token?: string) => {
        const response = await fetch(`${base}/v1/receipts`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
          body: await receiptRequestBody(new Date()),
        });
        const body = (await response.json()) as { code?: string };
        return [response.status, body.code];
      };
      assert.deepEqual(await post(), [401, 'RECEIPT_UNAUTHORIZED']);
      assert.deepEqual(await post('someone-else'), [401, 'RECEIPT_UNAUTHORIZED']);
      assert.deepEqual(await post(tokens[0]), [201, undefined]);
      assert.deepEqual(await post(tokens[1]), [201, undefined]);
      // A batch of receipts is asked for with the same token.
      const batch = async (token?: string) => {
        const { evidence, binding, inclusion } = JSON.parse(
          await receiptRequestBody(new Date()),
        ) as Record<string, unknown>;
        const response = await fetch(`${base}/v1/receipts/batch`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
          body: JSON.stringify({ evidence, items: [{ binding, inclusion }] }),
        });
        const body = (await response.json()) as { code?: string; receipts?: unknown[] };
        return [response.status, body.code ?? body.receipts?.length];
      };
      assert.deepEqual(await batch('someone-else'), [401, 'RECEIPT_UNAUTHORIZED']);
      assert.deepEqual(await batch(tokens[0]), [201, 1]);
      // Reading stays public.
      assert.equal((await fetch(`${base}/v1/log/checkpoint`)).status, 200);
    } finally {
      verifier.kill('SIGTERM');
    }
  });

  it('signs checkpoints with the note key VERITEE_LOG_NOTE_KEY gives, in every replica, and never writes it to disk', async () => {
    const signer = noteSignerFromSeed('verifier.test/log', NOTE_SIGNATURE_ED25519, randomBytes(32));
    const replicas = ['replica-a', 'replica-b'];
    const ports = replicas.map(() => randomPort());
    const running = await Promise.all(
      replicas.map((name, i) =>
        start({
          VERITEE_VERIFIER_LISTEN: `127.0.0.1:${ports[i]}`,
          VERITEE_VERIFIER_DATA: join(dir, name),
          VERITEE_HOME: dir,
          VERITEE_ALLOW_SIMULATED: '1',
          VERITEE_LOG_NOTE_KEY: formatNoteSignerKey(signer),
        }),
      ),
    );
    try {
      for (const [i, name] of replicas.entries()) {
        const log = (await (await fetch(`http://127.0.0.1:${ports[i]}/v1/log`)).json()) as {
          key: string;
          origin: string;
        };
        assert.deepEqual([log.origin, log.key], ['verifier.test/log', signer.vkey]);
        const note = await (await fetch(`http://127.0.0.1:${ports[i]}/checkpoint`)).text();
        assert.equal(openNote(note, [parseNoteVerifier(signer.vkey)]).signatures.length, 1);
        await assert.rejects(readFile(join(dir, name, 'log-note.key')), { code: 'ENOENT' });
      }
    } finally {
      for (const child of running) child.kill('SIGTERM');
    }
    // A key that is not a note signer key stops the verifier, naming the setting, not the value.
    const refused = spawnSync(
      process.execPath,
      ['--conditions=veritee-source', '--import', 'tsx', main],
      {
        env: {
          ...process.env,
          VERITEE_VERIFIER_LISTEN: `127.0.0.1:${randomPort()}`,
          VERITEE_VERIFIER_DATA: join(dir, 'bad-note-key'),
          VERITEE_LOG_NOTE_KEY: 'PRIVATE+KEY+not-a-key-sekrit',
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /SIGNING_KEY_INVALID.*VERITEE_LOG_NOTE_KEY/);
    assert.doesNotMatch(refused.stderr, /sekrit/);
  });

  it('refuses to start when told to trust simulated evidence but holding no dev roots, naming the setting', () => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=veritee-source', '--import', 'tsx', main],
      {
        env: {
          ...process.env,
          VERITEE_HOME: join(dir, 'no-home'),
          VERITEE_ALLOW_SIMULATED: '1',
          VERITEE_VERIFIER_DATA: join(dir, 'other-data'),
        },
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /CONFIG_INVALID: VERITEE_ALLOW_SIMULATED=1 but there is no dev PKI/,
    );
  });
});
