/**
 * The publishable packages as a stranger gets them: `npm pack` of each, the
 * tarballs checked (built code, types, licence; no sources, tests or keys),
 * installed into a throwaway project outside the repository, and a smoke
 * script run there: the client SDK loads, and the attestation library
 * verifies a real AWS Nitro document to AWS's root (and, by its default
 * policy, refuses it for being a debug enclave).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VECTORS_DIR } from '@veritee/mock/vectors';
import { ROOT } from './source-files.js';

const PUBLISHED = ['@veritee/attestations', '@veritee/http', '@veritee/client', '@veritee/cli'];
const NITRO = 'nitro-evervault-2023-09-18-ga';

const npm = (args: readonly string[], cwd: string) =>
  execFileSync('npm', [...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' },
  });

const SMOKE = `
import { readFileSync } from 'node:fs';
import { createClient, Refused } from '@veritee/client';
import { appraise } from '@veritee/attestations/evidence';
import { verifyReceipt } from '@veritee/attestations/receipt';
const evidence = new Uint8Array(readFileSync('document.cbor'));
const at = new Date(readFileSync('verify-at.txt', 'utf8').trim());
const verdict = await appraise({ evidence }, { at });
const client = createClient({
  host: 'https://inference.example.com',
  verifier: 'https://verifier.example.com',
  policy: { models: ['00'.repeat(32)] },
});
console.log(JSON.stringify({
  verdict: verdict.verdict,
  codes: verdict.codes,
  format: verdict.format,
  simulated: verdict.simulated,
  client: typeof client.infer,
  refused: typeof Refused,
  receipts: typeof verifyReceipt,
}));
`;

describe('the published packages', () => {
  let dir: string;
  let tarballs: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'veritee-packages-'));
    npm(['pack', ...PUBLISHED.flatMap((name) => ['-w', name]), '--pack-destination', dir], ROOT);
    tarballs = readdirSync(dir)
      .filter((name) => name.endsWith('.tgz'))
      .map((name) => join(dir, name));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('pack built code, types and the licence, and no sources, tests or keys', () => {
    assert.equal(tarballs.length, PUBLISHED.length);
    for (const tarball of tarballs) {
      const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
      assert.ok(files.includes('package/LICENSE'), `${tarball}: LICENSE`);
      if (tarball.includes('veritee-cli-')) {
        // The command: its bin and bundle, nothing of the workspace it was built from.
        assert.ok(files.includes('package/bin/veritee.js'), `${tarball}: bin`);
        assert.ok(files.includes('package/bundle/main.js'), `${tarball}: bundle`);
        assert.deepEqual(
          files.filter((file) => file.startsWith('package/dist/')),
          [],
          tarball,
        );
      } else {
        assert.ok(files.includes('package/dist/index.js'), `${tarball}: dist`);
        assert.ok(files.includes('package/dist/index.d.ts'), `${tarball}: types`);
      }
      assert.deepEqual(
        files.filter((file) => /^package\/(src|test)\/|\.test\.|\.tsbuildinfo$/.test(file)),
        [],
        tarball,
      );
      const content = execFileSync('tar', ['-xzOf', tarball], {
        encoding: 'latin1',
        maxBuffer: 256 * 1024 * 1024,
      });
      assert.doesNotMatch(content, /-----BEGIN [A-Z ]*PRIVATE KEY-----|"d":\s*"[\w-]{40,}"/);
      const manifest = JSON.parse(
        execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
      ) as {
        private?: boolean;
        license?: string;
        engines?: { node?: string };
        dependencies?: Record<string, string>;
      };
      // Whatever it depends on must be installable: published packages, never the workspace's private ones.
      for (const name of Object.keys(manifest.dependencies ?? {}))
        assert.ok(
          !name.startsWith('@veritee/') || PUBLISHED.includes(name),
          `${tarball} depends on the unpublished ${name}`,
        );
      assert.equal(manifest.private, undefined);
      assert.equal(manifest.license, 'Apache-2.0');
      assert.equal(manifest.engines?.node, '>=20.19');
    }
  });

  it('install into a project outside the repository and work there', () => {
    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'smoke', private: true, type: 'module' }),
    );
    // Third-party dependencies from the registry (the npm cache first); ours from the tarballs only.
    // Optional native parts (better-sqlite3, for `veritee witness`) are left out, as a user may.
    npm(
      ['install', '--prefer-offline', '--no-package-lock', '--omit=optional', ...tarballs],
      project,
    );
    copyFileSync(join(VECTORS_DIR, NITRO, 'document.cbor'), join(project, 'document.cbor'));
    writeFileSync(join(project, 'verify-at.txt'), '2023-09-18T15:03:30Z');
    writeFileSync(join(project, 'smoke.mjs'), SMOKE);
    const printed = execFileSync(process.execPath, ['smoke.mjs'], {
      cwd: project,
      encoding: 'utf8',
      // No conditions, no repository on the way: what a user's Node resolves.
      env: { PATH: process.env['PATH'] ?? '' },
    });
    // AWS's chain and signature verify; the default policy then refuses the debug enclave.
    assert.deepEqual(JSON.parse(printed), {
      verdict: 'reject',
      codes: ['POLICY_DEBUG_ENABLED'],
      format: 'nitro',
      simulated: false,
      client: 'function',
      refused: 'function',
      receipts: 'function',
    });
    // The command, installed: its version, and a real Nitro document verified offline.
    const veritee = join(project, 'node_modules', '.bin', 'veritee');
    const version = execFileSync(veritee, ['--version'], { cwd: project, encoding: 'utf8' });
    assert.match(version, /^veritee \d+\.\d+\.\d+\n$/);
    let verdict: string;
    try {
      verdict = execFileSync(
        veritee,
        ['verify', 'document.cbor', '--at', '2023-09-18T15:03:30Z', '--offline', '--json'],
        {
          cwd: project,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { PATH: process.env['PATH'] ?? '', HOME: project },
        },
      );
    } catch (error) {
      // Refused (exit 1): the debug enclave, as above; its JSON is still on stdout.
      verdict = (error as { stdout: string }).stdout;
    }
    assert.deepEqual((JSON.parse(verdict) as { codes: string[] }).codes, ['POLICY_DEBUG_ENABLED']);
  });
});
