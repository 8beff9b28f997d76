/**
 * C2SP checkpoints (c2sp.org/tlog-checkpoint): the body of a signed note
 * holding the log's origin line, its tree size in decimal and its root hash
 * in base64, then optional extension lines.
 */
import { EvidenceError } from '../errors.js';
import { MERKLE_HASH_SIZE } from '../merkle/merkle.js';
import { hasControlCharacter } from './note.js';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions: readonly string[];
}

/** The checkpoint's note text, newline-terminated. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (!isOrigin(checkpoint.origin) || !Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0)
    throw new EvidenceError('CHECKPOINT_MALFORMED', 'a checkpoint has an origin and a size');
  return [
    checkpoint.origin,
    String(checkpoint.size),
    Buffer.from(checkpoint.rootHash).toString('base64'),
    ...checkpoint.extensions,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Reads a checkpoint's note text (as `openNote` returns it).
 * @throws EvidenceError CHECKPOINT_MALFORMED
 */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  // The text ends with a newline, so the split ends with an empty string.
  if (lines.length < 4 || lines.pop() !== '') malformed('a checkpoint has at least three lines');
  const [origin = '', size = '', root = '', ...extensions] = lines;
  if (!isOrigin(origin)) malformed('the origin line is empty or not printable');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size)))
    malformed('the size line is not a decimal size');
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.byteLength !== MERKLE_HASH_SIZE || rootHash.toString('base64') !== root)
    malformed('the root hash line is not 32 bytes of base64');
  if (extensions.some((line) => line.length === 0)) malformed('an extension line is empty');
  return { origin, size: Number(size), rootHash: new Uint8Array(rootHash), extensions };
}

function isOrigin(origin: string): boolean {
  return origin.length > 0 && origin.length <= 256 && !hasControlCharacter(origin, '');
}

/**
 * The tree size a signed note's checkpoint claims, unverified: only to know
 * which proof to ask for, never to trust. Undefined when it is no checkpoint.
 */
export function peekCheckpointSize(note: string): number | undefined {
  try {
    return parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1)).size;
  } catch {
    return undefined;
  }
}

function malformed(message: string): never {
  throw new EvidenceError('CHECKPOINT_MALFORMED', message);
}
