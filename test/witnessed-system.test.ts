/**
 * The whole system with a witness, as real processes on 127.0.0.1: the
 * verifier sends each new checkpoint to a `veritee witness`, and a client
 * that requires the witness's cosignature gets answers whose receipts are
 * in a checkpoint the witness cosigned; one that requires a witness nobody
 * runs is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isVeriteeError } from '@veritee/attestations';
import {
  formatNoteSignerKey,
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
} from '@veritee/attestations/tlog';
import { createClient } from '@veritee/client';
import { bundledModelHash } from '@veritee/enclave';
import { trustWithDev } from '@veritee/mock';
import { startWitness } from '@veritee/mock/cli';
import { startSystem, type System, createHome, EPHEMERAL_PORTS } from '@veritee/mock/system';

describe('a system whose log is witnessed', () => {
  const home = createHome();
  let witness: Awaited<ReturnType<typeof startWitness>>;
  let witnessKey: string;
  let system: System;

  before(async () => {
    // The log's key is made here so the witness can be told it before the verifier starts.
    const logKey = noteSignerFromSeed('system.test/log', NOTE_SIGNATURE_ED25519, randomBytes(32));
    mkdirSync(join(home, 'verifier'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, 'verifier', 'log-note.key'), formatNoteSignerKey(logKey), {
      mode: 0o600,
    });
    witness = await startWitness(join(home, 'witness'), 'witness.test/w1', logKey.vkey);
    witnessKey = witness.key;
    system = await startSystem({
      home,
      mode: 'source',
      ports: EPHEMERAL_PORTS,
      env: {
        verifier: {
          VERITEE_WITNESSES: `${witness.url} ${witnessKey}`,
          VERITEE_WITNESS_INTERVAL_MS: '200',
          VERITEE_LOG_ORIGIN: 'system.test/log',
        },
      },
    });
  });
  after(async () => {
    await system?.stop();
    await witness?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('checks each receipt against a checkpoint the witness cosigned', async () => {
    const client = createClient({
      host: system.host.url,
      verifier: system.verifier.url,
      trust: trustWithDev,
      policy: { models: [await bundledModelHash()], allowSimulated: true },
      witnesses: { keys: [witnessKey] },
      timeoutMs: 10_000,
    });
    for (const prompt of ['first private prompt', 'second private prompt']) {
      const result = await client.infer(prompt);
      assert.equal(result.receipt?.checked?.checkpoint.form, 'note');
      assert.deepEqual(result.receipt?.checked?.checkpoint.cosigners, ['witness.test/w1']);
    }
    const log = (await (await fetch(`${system.verifier.url}/v1/log`)).json()) as {
      origin: string;
      witnesses: string[];
    };
    assert.deepEqual(log, {
      origin: 'system.test/log',
      key: log['key' as never],
      witnesses: [witnessKey],
    });
  });

  it('refuses receipts when a required witness never cosigned', async () => {
    const absent = noteSignerFromSeed(
      'absent.test/w',
      NOTE_SIGNATURE_COSIGNATURE_V1,
      randomBytes(32),
    );
    const client = createClient({
      host: system.host.url,
      verifier: system.verifier.url,
      trust: trustWithDev,
      policy: { models: [await bundledModelHash()], allowSimulated: true },
      witnesses: { keys: [witnessKey, absent.vkey], required: 2 },
      timeoutMs: 3_000,
    });
    await assert.rejects(
      client.infer('a prompt'),
      (error: unknown) => isVeriteeError(error) && error.code === 'RECEIPT_WITNESSES_MISSING',
    );
  });
});
