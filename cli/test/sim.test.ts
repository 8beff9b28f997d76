import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevPki, devPkiPath } from '../src/index.js';
import { DEV_PKI_PATH } from '@veritee/mock';
import { lastJson, runCli } from '@veritee/mock/cli';

describe('veritee sim', () => {
  let home: string;

  const veritee = (...args: string[]) => runCli(args, { VERITEE_HOME: home });
  const verdictOf = (stdout: string) =>
    lastJson<{
      verdict: string;
      simulated: boolean;
      codes: string[];
      fields: Record<string, unknown>;
    }>(stdout);

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'veritee-home-'));
    await copyFile(DEV_PKI_PATH, devPkiPath(home));
  });
  after(() => rm(home, { recursive: true, force: true }));

  const kinds: Array<[string, string[], string]> = [
    ['an SNP v2 report', ['snp', '--version', '2'], 'SNP_CHAIN_UNTRUSTED'],
    ['an SNP v3 report', ['snp', '--version', '3', '--product', 'Genoa'], 'SNP_CHAIN_UNTRUSTED'],
    [
      'an SNP v5 report signed by a VLEK',
      ['snp', '--version', '5', '--vlek', '--product', 'Turin'],
      'SNP_CHAIN_UNTRUSTED',
    ],
    ['a Nitro document', ['nitro', '--nonce', '00112233'], 'NITRO_CHAIN_UNTRUSTED'],
  ];
  for (const [name, args, untrusted] of kinds) {
    it(`writes ${name} that verify accepts with --allow-simulated, marked simulated, and rejects without`, async () => {
      const out = join(home, `${args.join('-')}.bin`);
      const sim = await veritee('sim', ...args, '--out', out);
      assert.equal(sim.status, 0, sim.stderr);
      const [allowed, plain] = await Promise.all([
        veritee('verify', '--allow-simulated', '--json', '--offline', out),
        veritee('verify', '--json', '--offline', out),
      ]);
      assert.equal(allowed.status, 0, allowed.stdout);
      assert.deepEqual(
        [verdictOf(allowed.stdout).verdict, verdictOf(allowed.stdout).simulated],
        ['accept', true],
      );
      assert.equal(plain.status, 1);
      assert.deepEqual(verdictOf(plain.stdout).codes, [untrusted]);
    });
  }

  it('sets the report data and the debug bit as asked, and the default policy refuses debug', async () => {
    const out = join(home, 'debug.bin');
    assert.equal(
      (await veritee('sim', 'snp', '--debug', '--report-data', 'cafe', '--out', out)).status,
      0,
    );
    const result = await veritee('verify', '--allow-simulated', '--json', '--offline', out);
    const verdict = verdictOf(result.stdout);
    assert.equal(result.status, 1);
    assert.deepEqual(verdict.codes, ['POLICY_DEBUG_ENABLED']);
    assert.equal(verdict.fields['report_data'], `cafe${'00'.repeat(62)}`);
    const nitro = join(home, 'debug.cbor');
    assert.equal((await veritee('sim', 'nitro', '--debug', '--out', nitro)).status, 0);
    assert.deepEqual(
      verdictOf((await veritee('verify', '--allow-simulated', '--json', nitro)).stdout).codes,
      ['POLICY_DEBUG_ENABLED'],
    );
  });

  it('exits 64 (USAGE) for a bad version, bad hex or a missing --out', async () => {
    for (const args of [
      ['snp', '--version', '4', '--out', 'x'],
      ['nitro', '--nonce', 'xyz', '--out', 'x'],
      ['snp'],
      ['tpm', '--out', 'x'],
    ]) {
      const result = await veritee('sim', ...args);
      assert.equal(result.status, 64, args.join(' '));
      assert.match(result.stderr, /USAGE/);
    }
  });
});

describe('loadOrCreateDevPki', () => {
  it('creates the dev PKI once, owner-only, and loads the same one afterwards', async () => {
    const home = await mkdtemp(join(tmpdir(), 'veritee-home-'));
    try {
      const progress: string[] = [];
      const created = await loadOrCreateDevPki(
        join(home, 'state'),
        new Date('2026-06-01T00:00:00Z'),
        (line) => progress.push(line),
      );
      assert.ok(progress.length >= 4, 'reports progress while generating keys');
      assert.equal((await stat(devPkiPath(join(home, 'state')))).mode & 0o777, 0o600);
      assert.equal((await stat(join(home, 'state'))).mode & 0o777, 0o700);
      const loaded = await loadOrCreateDevPki(join(home, 'state'), new Date(), () =>
        assert.fail('must not generate again'),
      );
      assert.equal(
        loaded.snp.Milan.ark.certificate.fingerprint,
        created.snp.Milan.ark.certificate.fingerprint,
      );
      assert.match(
        await readFile(devPkiPath(join(home, 'state')), 'utf8'),
        /"format": "veritee.dev-pki\/v1"/,
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
