/**
 * An operator approves and withdraws images with `veritee operator`, against
 * the real verifier process: what the verifier accepts follows, and its log
 * records each change.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@veritee/attestations';
import { SIM_DEFAULT_MEASUREMENT, simulatedPcr } from '@veritee/attestations/sim';
import { startFakeHost } from '@veritee/mock/host';
import { runCli } from '@veritee/mock/cli';
import { simulator } from '@veritee/mock';
import { type Service, createHome, startTestVerifier } from '@veritee/mock/system';

const TOKEN = 'operator-test-token-0123456789abcdef';
const APPROVED = new Uint8Array(48).fill(0x11);
const OTHER = new Uint8Array(48).fill(0x22);

describe('veritee operator', () => {
  const home = createHome();
  let verifier: Service;

  before(async () => {
    verifier = await startTestVerifier(home, { VERITEE_ADMIN_TOKEN: TOKEN });
  });
  after(async () => {
    await verifier.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const operator = async (args: string[], token = TOKEN) => {
    const result = await runCli(['operator', ...args, '--verifier', verifier.url, '--json'], {
      VERITEE_ADMIN_TOKEN: token,
      // No host runs here: nothing to lock out.
      VERITEE_HOST_URL: 'http://127.0.0.1:9',
    });
    return {
      code: result.status,
      lines: result.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    };
  };

  const status = async (evidence: Uint8Array) => {
    const response = await fetch(`${verifier.url}/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evidence: Buffer.from(evidence).toString('base64') }),
    });
    return (await response.json()) as { status: string; codes: string[] };
  };
  const snpWith = async (measurement: Uint8Array) =>
    (await simulator.snp({ at: new Date(), measurement })).evidence;

  it('registers and retires SEV-SNP measurements, and the verifier follows', async () => {
    assert.equal(
      (await status(await snpWith(OTHER))).status,
      'warning',
      'before: anything simulated passes',
    );
    const registered = await operator([
      'register',
      '--measurement',
      toHex(APPROVED),
      '--note',
      'release 1.2',
    ]);
    assert.equal(registered.code, 0);
    assert.equal(registered.lines[0]?.['version'], 2);
    assert.equal((await status(await snpWith(APPROVED))).status, 'warning');
    const other = await status(await snpWith(OTHER));
    assert.deepEqual(
      [other.status, other.codes],
      ['contraindicated', ['POLICY_MEASUREMENT_NOT_ALLOWED']],
    );
    const retired = await operator(['retire', '--measurement', toHex(APPROVED)]);
    assert.equal(retired.lines[0]?.['version'], 3);
    assert.equal((await status(await snpWith(APPROVED))).status, 'contraindicated');
  });

  it('registers the PCRs nitro-cli build-enclave prints', async () => {
    const pcrs = { pcr0: simulatedPcr(0), pcr1: simulatedPcr(1), pcr2: simulatedPcr(2) };
    const file = join(home, 'build-enclave.json');
    writeFileSync(
      file,
      JSON.stringify({
        Measurements: {
          HashAlgorithm: 'Sha384 { ... }',
          PCR0: toHex(pcrs.pcr0).toUpperCase(),
          PCR1: toHex(pcrs.pcr1),
          PCR2: toHex(pcrs.pcr2),
        },
      }),
    );
    const document = async () => (await simulator.nitro({ at: new Date() })).evidence;
    const registered = await operator(['register', '--pcrs', file]);
    assert.equal(registered.code, 0, JSON.stringify(registered.lines));
    assert.equal((await status(await document())).status, 'warning');
    await operator(['retire', '--pcrs', file]);
    assert.deepEqual((await status(await document())).codes, ['POLICY_MEASUREMENT_NOT_ALLOWED']);
  });

  it('records every change in the log, and refuses a wrong token', async () => {
    const policies = (await (await fetch(`${verifier.url}/v1/policies`)).json()) as {
      version: number;
      changes: Array<{ action: string; note?: string; log: { index: number } }>;
    };
    assert.equal(policies.version, 5);
    assert.deepEqual(
      policies.changes.map((change) => change.action),
      ['register', 'retire', 'register', 'retire'],
    );
    assert.equal(policies.changes[0]?.note, 'release 1.2');
    const refused = await operator(['register', '--measurement', toHex(APPROVED)], 'not-the-token');
    assert.equal(refused.code, 1);
    assert.equal(refused.lines[0]?.['code'], 'ADMIN_UNAUTHORIZED');
  });
});

describe('veritee operator on an open policy', () => {
  const home = createHome();
  let verifier: Service;
  let host: { url: string; close: () => Promise<void> };

  before(async () => {
    verifier = await startTestVerifier(home, { VERITEE_ADMIN_TOKEN: TOKEN });
    host = await startFakeHost();
  });
  after(async () => {
    await host.close();
    await verifier.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    runCli(['operator', ...args, '--verifier', verifier.url], { VERITEE_ADMIN_TOKEN: TOKEN });

  it('asks for --yes before an allow-list locks out the enclave that runs now, and lists approvals', async () => {
    const refused = await cli('register', '--measurement', toHex(OTHER), '--host', host.url);
    assert.equal(refused.status, 1);
    assert.match(refused.stdout, /WARNING .*policy is open/);
    assert.ok(
      refused.stdout.includes(toHex(SIM_DEFAULT_MEASUREMENT)),
      'names the enclave locked out',
    );
    const untouched = (await (await fetch(`${verifier.url}/v1/policies`)).json()) as {
      changes: unknown[];
    };
    assert.deepEqual(untouched.changes, []);

    const covering = await cli(
      'register',
      '--measurement',
      toHex(SIM_DEFAULT_MEASUREMENT),
      '--measurement',
      toHex(OTHER),
      '--host',
      host.url,
    );
    assert.equal(covering.status, 0, covering.stdout + covering.stderr);

    const listed = await cli('list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    const { approved, changes } = JSON.parse(listed.stdout) as {
      approved: Array<{ measurement: string; models: string[] }>;
      changes: Array<{ version: number; log: { index: number } }>;
    };
    assert.deepEqual(
      approved.map((entry) => entry.measurement).sort(),
      [toHex(SIM_DEFAULT_MEASUREMENT), toHex(OTHER)].sort(),
    );
    assert.deepEqual(
      changes.map((change) => change.log.index),
      [0, 1],
    );
    const human = await cli('list');
    assert.match(human.stdout, /^approved sev-snp [0-9a-f]{96} for any model$/m);
    assert.match(human.stdout, /^v2 +register +[0-9a-f]{96} +log index 0, /m);
  });
});
