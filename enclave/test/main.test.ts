import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_PKI_PATH } from '@veritee/mock';
import { http } from './http.js';

const main = resolve(fileURLToPath(import.meta.url), '../../src/main.ts');

/** Starts the real enclave process; resolves once it says it listens, or when it exits. */
function start(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--conditions=veritee-source', '--import', 'tsx', main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((done) => child.on('exit', (code) => done(code ?? -1)));
  // Settles as ready, or as not ready when the process exits first.
  const ready = new Promise<boolean>((done) => {
    child.stdout.on('data', () => stdout.includes('listening on') && done(true));
    void exited.then(() => done(false));
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe('enclave main', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'veritee-enclave-'));
    await copyFile(DEV_PKI_PATH, join(home, 'dev-pki.json'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('starts on a Unix socket with the simulated TEE, prints its summary, serves, and stops on SIGTERM', async () => {
    const socketPath = join(home, 'enclave.sock');
    const enclave = start({ VERITEE_HOME: home, VERITEE_ENCLAVE_LISTEN: `unix:${socketPath}` });
    assert.equal(await enclave.ready, true, enclave.output().stderr);
    assert.match(enclave.output().stdout, /TEE\s+simulated AMD SEV-SNP/);
    assert.match(enclave.output().stdout, /model hash\s+[0-9a-f]{64}/);
    const health = await http({ socketPath }, 'GET', '/healthz');
    assert.equal(health.status, 200);
    enclave.child.kill('SIGTERM');
    assert.equal(await enclave.exited, 0);
  });

  it('refuses to start on a bad setting or a model that is not the pinned one, naming it', async () => {
    const badTee = start({ VERITEE_HOME: home, VERITEE_TEE: 'tdx' });
    assert.equal(await badTee.exited, 2);
    assert.match(badTee.output().stderr, /CONFIG_INVALID: VERITEE_TEE/);
    const wrongHash = start({
      VERITEE_HOME: home,
      VERITEE_MODEL: fileURLToPath(new URL('../models/guardrail.onnx', import.meta.url)),
      VERITEE_MODEL_CONFIG: fileURLToPath(new URL('../models/guardrail.json', import.meta.url)),
      VERITEE_MODEL_SHA256: '00'.repeat(32),
    });
    assert.equal(await wrongHash.exited, 2);
    assert.match(wrongHash.output().stderr, /MODEL_HASH_MISMATCH/);
    const noNitro = start({
      VERITEE_HOME: home,
      VERITEE_TEE: 'nitro',
      VERITEE_NSM: join(home, 'no-nsm'),
    });
    assert.equal(await noNitro.exited, 2);
    assert.match(noNitro.output().stderr, /TEE_UNAVAILABLE/);
    // A device that answers the ioctl wrongly stops the start at its first quote.
    const notNsm = start({ VERITEE_HOME: home, VERITEE_TEE: 'nitro', VERITEE_NSM: '/dev/null' });
    assert.notEqual(await notNsm.exited, 0);
    assert.match(notNsm.output().stderr, /TEE_QUOTE_FAILED/);
  });
});
