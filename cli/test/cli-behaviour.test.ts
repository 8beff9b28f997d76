/**
 * The CLI on ordinary mistakes, run as a user runs it (the installed bin, its
 * bundle): --help for every command and subcommand, --version, unknown flags
 * and missing values as usage errors (exit 64, USAGE, never INTERNAL_ERROR),
 * --json as exactly one JSON document on stdout (errors included), URLs
 * without a scheme, and a prompt on the command line warned about.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLI = resolve(fileURLToPath(import.meta.url), '../../bin/veritee.js');
const VERSION = (
  JSON.parse(readFileSync(join(CLI, '../../package.json'), 'utf8')) as { version: string }
).version;

async function veritee(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, VERITEE_HOST_URL: '', VERITEE_VERIFIER_URL: '' },
      timeout: 30_000,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** stdout must be exactly one JSON document. */
function onlyJson(stdout: string): Record<string, unknown> {
  assert.equal(stdout.trim().split('\n').length, 1, `one line on stdout: ${stdout}`);
  return JSON.parse(stdout) as Record<string, unknown>;
}

const COMMANDS = [
  ['verify'],
  ['attest'],
  ['receipt', 'verify'],
  ['receipt', 'bundle'],
  ['infer'],
  ['sim'],
  ['operator', 'register'],
  ['operator', 'retire'],
  ['operator', 'list'],
  ['operator', 'seal-model'],
  ['operator', 'measure-snp'],
  ['operator', 'log-key'],
  ['operator', 'snp-guest'],
  ['witness'],
  ['proxy'],
];

describe('the veritee command', () => {
  it('prints its version', async () => {
    const { status, stdout } = await veritee('--version');
    assert.equal(status, 0);
    assert.equal(stdout, `veritee ${VERSION}\n`);
  });

  it('answers --help for every command and subcommand, with its usage', async () => {
    for (const command of COMMANDS) {
      const { status, stdout } = await veritee(...command, '--help');
      assert.equal(status, 0, command.join(' '));
      assert.match(stdout, /^Usage: veritee /m, command.join(' '));
    }
  });

  it('calls an unknown flag or a missing value a usage error, for every command', async () => {
    for (const command of COMMANDS) {
      const { status, stderr } = await veritee(...command, '--no-such-flag');
      assert.equal(status, 64, `${command.join(' ')}: ${stderr}`);
      assert.match(stderr, /USAGE/, command.join(' '));
      assert.doesNotMatch(stderr, /INTERNAL_ERROR/);
    }
    const missing = await veritee('attest', '--host');
    assert.equal(missing.status, 64);
    const unknown = await veritee('frobnicate');
    assert.equal(unknown.status, 64);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it('writes errors as the one JSON document under --json, and people’s text to stderr', async () => {
    const usage = await veritee('verify', '/nonexistent/evidence.bin', '--json');
    assert.equal(usage.status, 64);
    assert.deepEqual(onlyJson(usage.stdout)['error'], {
      code: 'USAGE',
      message: 'cannot read the evidence file "/nonexistent/evidence.bin": ENOENT',
    });
    const flag = await veritee('receipt', 'verify', '--bogus', '--json');
    assert.equal((onlyJson(flag.stdout)['error'] as { code: string }).code, 'USAGE');
  });

  it('gives loopback URLs without a scheme http://, and refuses other hosts without one', async () => {
    const remote = await veritee('attest', '--host', 'enclave.example.com:7000', '--json');
    assert.equal(remote.status, 64);
    assert.match(
      (onlyJson(remote.stdout)['error'] as { message: string }).message,
      /--host "enclave.example.com:7000" has no scheme: write https:\/\/enclave\.example\.com:7000/,
    );
    // Nothing listens on this loopback port: the refusal names the URL it tried, with its scheme.
    const loopback = await veritee(
      'attest',
      '--host',
      'localhost:9',
      '--verifier',
      'none',
      '--any-measurement',
      '--json',
    );
    assert.equal(loopback.status, 1, loopback.stderr);
    assert.match(JSON.stringify(onlyJson(loopback.stdout)), /http:\/\/localhost:9/);
    assert.doesNotMatch(loopback.stdout + loopback.stderr, /null did not answer/);
  });

  it('warns that a prompt given as an argument is visible to other local users', async () => {
    const { stderr } = await veritee('infer', 'my secret prompt', '--host', 'localhost:9');
    assert.match(stderr, /visible to other users of this machine/);
    assert.doesNotMatch(stderr, /my secret prompt/, 'the warning does not repeat the prompt');
  });
});
