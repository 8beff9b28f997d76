/** `veritee operator log-key`, as an operator makes the key replicas share. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NOTE_SIGNATURE_ED25519,
  openNote,
  parseNoteSignerKey,
  parseNoteVerifier,
  signNote,
} from '@veritee/attestations/tlog';
import { runCli } from '@veritee/mock/cli';

describe('veritee operator log-key', () => {
  it('writes a new owner-only note key and prints the verifier key that checks its signatures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-log-key-'));
    try {
      const out = join(dir, 'log-note.key');
      const made = await runCli([
        'operator',
        'log-key',
        '--origin',
        'verifier.example.com/log',
        '--out',
        out,
        '--json',
      ]);
      assert.equal(made.status, 0, made.stderr);
      const { vkey } = JSON.parse(made.stdout) as { vkey: string };
      assert.equal((await stat(out)).mode & 0o777, 0o600);
      const signer = parseNoteSignerKey(await readFile(out, 'utf8'));
      assert.equal(signer.type, NOTE_SIGNATURE_ED25519);
      assert.equal(signer.name, 'verifier.example.com/log');
      const note = signNote('verifier.example.com/log\n1\nAAAA\n', [signer]);
      assert.equal(openNote(note, [parseNoteVerifier(vkey)]).signatures.length, 1);
      assert.doesNotMatch(made.stdout, /PRIVATE/, 'the private key is never printed');

      const again = await runCli(['operator', 'log-key', '--origin', 'x.test/log', '--out', out]);
      assert.notEqual(again.status, 0, 'an existing key is never overwritten');
      assert.equal(parseNoteSignerKey(await readFile(out, 'utf8')).name, signer.name);
      const bad = await runCli([
        'operator',
        'log-key',
        '--origin',
        'https://x/log',
        '--out',
        join(dir, 'k'),
      ]);
      assert.notEqual(bad.status, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
