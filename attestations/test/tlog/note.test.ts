/**
 * Signed notes, cosignatures and checkpoints, against the C2SP texts and
 * against Go's golang.org/x/mod/sumdb/note: each side opens what the other signs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ChainError, EvidenceError } from '../../src/index.js';
import { noteSignatures } from '../../src/signature-memo.js';
import {
  formatCheckpoint,
  formatNoteSignerKey,
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  openNote,
  parseCheckpoint,
  parseNoteSignerKey,
  parseNoteVerifier,
  peekCheckpointSize,
  signatureLine,
  signNote,
} from '../../src/tlog/index.js';
import { GO_ORACLE_SKIP, goTlogOracle } from '@veritee/mock/oracles';

const log = noteSignerFromSeed('verifier.example/log', NOTE_SIGNATURE_ED25519, randomBytes(32));
const witness = noteSignerFromSeed(
  'witness.example/w1',
  NOTE_SIGNATURE_COSIGNATURE_V1,
  randomBytes(32),
);
const text = formatCheckpoint({
  origin: 'verifier.example/log',
  size: 20852163,
  rootHash: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64'),
  extensions: [],
});
const code = (expected: string) => (error: unknown) =>
  (error instanceof EvidenceError || error instanceof ChainError) && error.code === expected;

describe('signed notes', () => {
  it("reads the signed-note specification's example key and signs as Go does", () => {
    // c2sp.org/signed-note and Go's sumdb/note document this key pair.
    const signer = parseNoteSignerKey(
      'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
    );
    assert.equal(signer.vkey, 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
    const note = signNote(
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
      [signer],
    );
    // Ed25519 is deterministic: the specification's signature, byte for byte.
    assert.match(
      note,
      /\n— PeterNeumann x08go\/ZJkuBS9UG\/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n$/,
    );
    assert.equal(
      formatNoteSignerKey(signer),
      'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
    );
  });

  it('opens what it signs, keeps unknown signatures aside, and refuses a bad one', () => {
    const note = signNote(text, [log]) + signatureLine(witness, text, 1_700_000_000);
    const opened = openNote(note, [parseNoteVerifier(log.vkey)]);
    assert.equal(opened.text, text);
    assert.deepEqual(
      opened.signatures.map((s) => s.verifier.name),
      ['verifier.example/log'],
    );
    assert.equal(opened.otherLines.length, 1);
    const both = openNote(note, [log, parseNoteVerifier(witness.vkey)]);
    assert.equal(both.signatures[1]?.timestamp, 1_700_000_000);
    const forged = note.replace('20852163', '20852164');
    assert.throws(() => openNote(forged, [log]), code('NOTE_BAD_SIGNATURE'));
    assert.throws(() => openNote(forged, [witness]), code('NOTE_BAD_SIGNATURE'));
  });

  it('verifies a signature seen before only once, and never for other bytes or another key', () => {
    noteSignatures.clear();
    const verified: boolean[] = [];
    const unwatch = noteSignatures.watch((_, result) => verified.push(result));
    try {
      const note = signNote(text, [log]) + signatureLine(witness, text, 1_700_000_000);
      const verifiers = [log, parseNoteVerifier(witness.vkey)];
      for (let time = 0; time < 3; time++) openNote(note, verifiers);
      assert.deepEqual(verified, [true, true], 'each signature was verified once');
      // Remembered as valid, the same signature line under another key (same name and ID) fails.
      const other = noteSignerFromSeed(log.name, NOTE_SIGNATURE_ED25519, randomBytes(32));
      const impostor = { ...parseNoteVerifier(log.vkey), publicKey: other.publicKey };
      assert.throws(() => openNote(note, [impostor]), code('NOTE_BAD_SIGNATURE'));
      const forged = note.replace('20852163', '20852164');
      assert.throws(() => openNote(forged, verifiers), code('NOTE_BAD_SIGNATURE'));
      assert.deepEqual(verified, [true, true, false, false]);
    } finally {
      unwatch();
    }
  });

  it('refuses malformed notes and keys with typed errors', () => {
    const note = signNote(text, [log]);
    for (const bad of [
      text,
      note.slice(0, -1),
      note.replace('\n\n', '\n'),
      `${note}— x\n`,
      note.replace('verifier.example/log\n', 'verifier\u0007example/log\n'),
      note.replace(/ ([A-Za-z0-9+/=]+)\n$/, ' !!\n'),
    ])
      assert.throws(() => openNote(bad, [log]), code('NOTE_MALFORMED'), JSON.stringify(bad));
    assert.throws(
      () => openNote(new Uint8Array([0xff, 0x0a, 0x0a]), [log]),
      code('NOTE_MALFORMED'),
    );
    for (const bad of [
      log.vkey.replace('+', '-'),
      log.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'),
      `${log.vkey}+x`,
      'a b+00000000+AQ==',
    ])
      assert.throws(() => parseNoteVerifier(bad), code('NOTE_KEY_MALFORMED'), bad);
  });
});

describe('checkpoints', () => {
  it("writes the tlog-checkpoint example's body and reads it back", () => {
    assert.equal(
      text,
      'verifier.example/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    const parsed = parseCheckpoint(text);
    assert.equal(parsed.size, 20852163);
    assert.deepEqual(parseCheckpoint(`${text}ext\n`).extensions, ['ext']);
  });

  it('peeks at the size a signed checkpoint claims, and at nothing else', () => {
    assert.equal(peekCheckpointSize(signNote(text, [log])), 20852163);
    assert.equal(peekCheckpointSize('not\na checkpoint\n\n— x AAAA\n'), undefined);
    assert.equal(peekCheckpointSize(''), undefined);
  });

  it('refuses a checkpoint with a bad size or root', () => {
    for (const bad of [
      'o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n1\nCsUY\n',
      'o\n1\n',
      '\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    ])
      assert.throws(() => parseCheckpoint(bad), code('CHECKPOINT_MALFORMED'), bad);
  });
});

describe('signed notes against Go sumdb/note', { skip: GO_ORACLE_SKIP }, () => {
  it('Go opens the notes signed here, and the notes Go signs open here', async () => {
    const ours = signNote(text, [log]);
    const opened = await goTlogOracle<{ text: string; signers: string[] }>({
      op: 'open-note',
      note: ours,
      vkeys: [log.vkey],
    });
    assert.deepEqual(opened, { text, signers: ['verifier.example/log'] });
    const forged = ours.replace('20852163', '20852164');
    await assert.rejects(goTlogOracle({ op: 'open-note', note: forged, vkeys: [log.vkey] }));
    const theirs = await goTlogOracle<{ note: string }>({
      op: 'sign-note',
      text,
      skey: formatNoteSignerKey(log),
    });
    assert.equal(theirs.note, ours, 'Ed25519 is deterministic: the same bytes');
    assert.equal(openNote(theirs.note, [log]).signatures.length, 1);
  });

  it('cosignatures made here verify with the tlog-cosignature construction in Go', async () => {
    const note = signNote(text, [log]) + signatureLine(witness, text, 1_700_000_123);
    const answer = await goTlogOracle<{ timestamps: Record<string, number> }>({
      op: 'cosignatures',
      note,
      cosigners: [witness.vkey],
    });
    assert.deepEqual(answer.timestamps, { 'witness.example/w1': 1_700_000_123 });
  });
});
