/**
 * C2SP signed notes (c2sp.org/signed-note): a UTF-8 text ending in a newline,
 * a blank line, then signature lines `— <key name> base64(key ID || signature)`.
 * Keys are named and identified by SHA-256(name || "\n" || type || public
 * key)[:4]; verifier keys are written `<name>+<hex key ID>+base64(type || public key)`.
 * Ed25519 signatures (type 0x01) sign the text; Ed25519 cosignatures (type
 * 0x04, c2sp.org/tlog-cosignature) carry a timestamp and sign
 * "cosignature/v1\ntime <t>\n" followed by the text.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ChainError, EvidenceError } from '../errors.js';
import { createMemo } from '../memo.js';
import { noteSignatures, signatureKey } from '../signature-memo.js';

export const NOTE_SIGNATURE_ED25519 = 0x01;
export const NOTE_SIGNATURE_COSIGNATURE_V1 = 0x04;
export type NoteSignatureType =
  typeof NOTE_SIGNATURE_ED25519 | typeof NOTE_SIGNATURE_COSIGNATURE_V1;

/** Bounds on what a stranger's note may hold. */
export const NOTE_MAX_SIZE = 64 * 1024;
export const NOTE_MAX_SIGNATURES = 100;

const DASH = '\u2014';
// PKCS #8 wrapping of an Ed25519 seed (RFC 8410, section 7).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A public key that can check note signatures of one type. */
export interface NoteVerifier {
  readonly name: string;
  readonly type: NoteSignatureType;
  /** 4 bytes. */
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The vkey text: `<name>+<hex key ID>+<base64(type || key)>`. */
  readonly vkey: string;
}

/** A private key that makes note signatures of one type. */
export interface NoteSigner extends NoteVerifier {
  readonly privateKey: KeyObject;
}

/** A signature that verified. */
export interface NoteSignature {
  readonly verifier: NoteVerifier;
  /** For cosignatures: the cosigner's POSIX time (seconds). */
  readonly timestamp?: number;
  /** The signature line as it appeared, newline included. */
  readonly line: string;
}

/** An opened note: its text and the signatures from known keys that verified. */
export interface OpenedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
  /** Signature lines from keys not asked about, kept (a checkpoint is served with them). */
  readonly otherLines: readonly string[];
}

function malformed(message: string): never {
  throw new EvidenceError('NOTE_MALFORMED', message);
}

/** True when `text` holds a C0 control or DEL other than those in `allowed`. */
export function hasControlCharacter(text: string, allowed: string): boolean {
  for (const char of text) {
    const code = char.charCodeAt(0);
    if ((code < 0x20 || code === 0x7f) && !allowed.includes(char)) return true;
  }
  return false;
}

function isKeyName(name: string): boolean {
  // Non-empty, no whitespace or '+' (c2sp.org/signed-note, "Signatures").
  return name.length > 0 && name.length <= 256 && !/[\s+]/u.test(name);
}

/** SHA-256(name || "\n" || type || public key)[:4]. */
export function noteKeyId(
  name: string,
  type: NoteSignatureType,
  publicKey: Uint8Array,
): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(name)
      .update('\n')
      .update(new Uint8Array([type]))
      .update(publicKey)
      .digest()
      .subarray(0, 4),
  );
}

function verifierOf(name: string, type: NoteSignatureType, publicKey: Uint8Array): NoteVerifier {
  if (!isKeyName(name)) malformed('a key name must be non-empty, without spaces or "+"');
  if (publicKey.byteLength !== 32) malformed('an Ed25519 public key is 32 bytes');
  const keyId = noteKeyId(name, type, publicKey);
  const encoded = Buffer.concat([Buffer.from([type]), publicKey]).toString('base64');
  return {
    name,
    type,
    keyId,
    publicKey,
    vkey: `${name}+${Buffer.from(keyId).toString('hex')}+${encoded}`,
  };
}

/**
 * Parses a verifier key (vkey) of type 0x01 (log signatures) or 0x04 (cosignatures).
 * @throws EvidenceError NOTE_KEY_MALFORMED
 */
export function parseNoteVerifier(vkey: string): NoteVerifier {
  // base64 may hold '+': the name and the key ID are the first two fields.
  const [name = '', hash = '', key = ''] = splitKey(vkey.trim(), 3);
  const bytes = Buffer.from(key, 'base64');
  const type = bytes[0];
  if (
    !/^[0-9a-f]{8}$/.test(hash) ||
    bytes.toString('base64') !== key ||
    (type !== NOTE_SIGNATURE_ED25519 && type !== NOTE_SIGNATURE_COSIGNATURE_V1) ||
    !isKeyName(name) ||
    bytes.byteLength !== 33
  )
    throw new EvidenceError(
      'NOTE_KEY_MALFORMED',
      'a verifier key is <name>+<8 hex digits>+<base64 of 0x01 or 0x04 and a 32-byte Ed25519 key>',
    );
  const verifier = verifierOf(name, type, new Uint8Array(bytes.subarray(1)));
  if (Buffer.from(verifier.keyId).toString('hex') !== hash)
    throw new EvidenceError('NOTE_KEY_MALFORMED', 'the key ID does not match the name and key');
  return verifier;
}

/**
 * A signer from an Ed25519 seed (32 bytes). Store it as `PRIVATE+KEY+...` text
 * with `formatNoteSignerKey`.
 */
export function noteSignerFromSeed(
  name: string,
  type: NoteSignatureType,
  seed: Uint8Array,
): NoteSigner {
  if (seed.byteLength !== 32) malformed('an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '';
  return { ...verifierOf(name, type, new Uint8Array(Buffer.from(x, 'base64url'))), privateKey };
}

/** `PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)`, the form Go's sumdb/note reads. */
export function formatNoteSignerKey(signer: NoteSigner): string {
  const der = signer.privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = der.subarray(der.byteLength - 32);
  const encoded = Buffer.concat([Buffer.from([signer.type]), seed]).toString('base64');
  return `PRIVATE+KEY+${signer.name}+${Buffer.from(signer.keyId).toString('hex')}+${encoded}`;
}

/**
 * Reads a `PRIVATE+KEY+...` signer key.
 * @throws EvidenceError NOTE_KEY_MALFORMED
 */
export function parseNoteSignerKey(text: string): NoteSigner {
  const parts = splitKey(text.trim(), 5);
  const bytes = Buffer.from(parts[4] ?? '', 'base64');
  const type = bytes[0];
  if (
    bytes.toString('base64') !== parts[4] ||
    parts[0] !== 'PRIVATE' ||
    parts[1] !== 'KEY' ||
    bytes.byteLength !== 33 ||
    (type !== NOTE_SIGNATURE_ED25519 && type !== NOTE_SIGNATURE_COSIGNATURE_V1)
  )
    throw new EvidenceError('NOTE_KEY_MALFORMED', 'a signer key is PRIVATE+KEY+<name>+<id>+<key>');
  const signer = noteSignerFromSeed(parts[2] ?? '', type, new Uint8Array(bytes.subarray(1)));
  if (Buffer.from(signer.keyId).toString('hex') !== parts[3])
    throw new EvidenceError('NOTE_KEY_MALFORMED', 'the key ID does not match the name and key');
  return signer;
}

/** The first `count - 1` '+'-separated fields, then the rest (which may hold '+'). */
function splitKey(text: string, count: number): string[] {
  const fields: string[] = [];
  let rest = text;
  while (fields.length < count - 1) {
    const at = rest.indexOf('+');
    if (at < 0) return [];
    fields.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...fields, rest];
}

/** The text a cosignature/v1 signs. */
function cosignedMessage(text: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`, 'utf8');
}

function assertText(text: string): void {
  if (!text.endsWith('\n')) malformed('a note text ends with a newline');
  // No control characters but newline; U+2014 may not start a line of the text.
  if (hasControlCharacter(text, '\n')) malformed('a note text holds control characters');
  if (text.startsWith(DASH) || text.includes(`\n${DASH}`))
    malformed('a note text line starts with —');
  if (text.includes('\n\n')) malformed('a note text holds no blank line');
}

/**
 * A signature line over `text` (`timestamp` in seconds, for cosignatures).
 */
export function signatureLine(signer: NoteSigner, text: string, timestamp?: number): string {
  assertText(text);
  let payload: Buffer;
  if (signer.type === NOTE_SIGNATURE_COSIGNATURE_V1) {
    const time = timestamp ?? malformed('a cosignature needs a timestamp');
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(time));
    payload = Buffer.concat([stamp, sign(null, cosignedMessage(text, time), signer.privateKey)]);
  } else {
    payload = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  }
  return `${DASH} ${signer.name} ${Buffer.concat([signer.keyId, payload]).toString('base64')}\n`;
}

/** A signed note: the text, a blank line, and one signature line per signer. */
export function signNote(text: string, signers: readonly NoteSigner[], timestamp?: number): string {
  return `${text}\n${signers.map((signer) => signatureLine(signer, text, timestamp)).join('')}`;
}

/**
 * Splits a note and checks every signature by a key in `verifiers`; lines
 * from other keys are kept unchecked in `otherLines`. A line that names a
 * known key but does not verify fails the whole note.
 * @throws EvidenceError NOTE_MALFORMED
 * @throws ChainError NOTE_BAD_SIGNATURE
 */
export function openNote(
  input: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  if (input.length > NOTE_MAX_SIZE) malformed(`a note is at most ${NOTE_MAX_SIZE} bytes`);
  const note = typeof input === 'string' ? input : utf8(input);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) malformed('a note has a blank line before its signatures');
  const text = note.slice(0, split + 1);
  assertText(text);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) malformed('a note ends with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > NOTE_MAX_SIGNATURES)
    malformed(`a note carries at most ${NOTE_MAX_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  const otherLines: string[] = [];
  for (const line of lines) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (match === null) malformed('a signature line is "— <name> <base64>"');
    const [, name = '', encoded = ''] = match;
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.byteLength < 5 || bytes.toString('base64') !== encoded)
      malformed('a signature is not base64');
    const keyId = bytes.subarray(0, 4);
    const verifier = verifiers.find(
      (candidate) => candidate.name === name && Buffer.from(candidate.keyId).equals(keyId),
    );
    if (verifier === undefined) {
      otherLines.push(`${line}\n`);
      continue;
    }
    const checked = checkSignature(verifier, text, bytes.subarray(4));
    signatures.push({ verifier, ...checked, line: `${line}\n` });
  }
  return { text, signatures, otherLines };
}

function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return malformed('a note is not UTF-8');
  }
}

// Verifier keys are few (a log's, its witnesses'): each is imported once.
const publicKeys = createMemo<KeyObject>(256);

function checkSignature(
  verifier: NoteVerifier,
  text: string,
  payload: Buffer,
): { timestamp?: number } {
  const x = Buffer.from(verifier.publicKey).toString('base64url');
  const publicKey = publicKeys.remember(x, () =>
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
  );
  // A checkpoint reaches a client with every receipt of its commit group: verified once.
  const verifies = (message: Buffer, signature: Buffer) =>
    noteSignatures.remember(signatureKey('note', message, signature, x), () =>
      verify(null, message, publicKey, signature),
    );
  const bad = (): never => {
    throw new ChainError('NOTE_BAD_SIGNATURE', `the signature by ${verifier.name} does not verify`);
  };
  if (verifier.type === NOTE_SIGNATURE_COSIGNATURE_V1) {
    if (payload.byteLength !== 72) bad();
    const timestamp = payload.readBigUInt64BE(0);
    if (timestamp >= 2n ** 63n) bad();
    const time = Number(timestamp);
    if (!verifies(cosignedMessage(text, time), payload.subarray(8))) bad();
    return { timestamp: time };
  }
  if (payload.byteLength !== 64 || !verifies(Buffer.from(text, 'utf8'), payload)) bad();
  return {};
}
