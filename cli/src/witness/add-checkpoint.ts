/**
 * The witness's one decision (c2sp.org/tlog-witness, add-checkpoint): given
 * the request body and what it cosigned last for the log, either cosign the
 * checkpoint (200, cosignature lines) or refuse with the status the
 * specification gives: 400 malformed, 403 no trusted log signature, 404
 * unknown origin, 409 the old size is not the last one cosigned (body: that
 * size), 422 the consistency proof does not verify. Pure: the caller stores.
 */
import { verifyConsistency } from '@veritee/attestations/merkle';
import {
  openNote,
  parseCheckpoint,
  signatureLine,
  type Checkpoint,
  type NoteSigner,
  type NoteVerifier,
} from '@veritee/attestations/tlog';
import { isVeriteeError } from '@veritee/attestations';

/** What the witness last cosigned for a log. */
export interface WitnessedTree {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

export interface WitnessAnswer {
  readonly status: 200 | 400 | 403 | 404 | 409 | 422;
  readonly contentType: string;
  readonly body: string;
  /** Set when the witness must record this tree before answering. */
  readonly record?: { readonly origin: string; readonly tree: WitnessedTree };
}

const MAX_PROOF_LINES = 63;
const TEXT = 'text/plain; charset=utf-8';

export function addCheckpoint(input: {
  readonly body: string;
  /** The logs this witness follows, by origin: their note keys. */
  readonly logs: ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly lastCosigned: (origin: string) => WitnessedTree | undefined;
  readonly key: NoteSigner;
  readonly now: Date;
}): WitnessAnswer {
  const refuse = (status: WitnessAnswer['status'], reason: string): WitnessAnswer => ({
    status,
    contentType: TEXT,
    body: `${reason}\n`,
  });
  const lines = input.body.split('\n');
  const oldLine = /^old (0|[1-9][0-9]{0,15})$/.exec(lines[0] ?? '');
  if (oldLine === null) return refuse(400, 'the body starts with "old <size>"');
  const old = Number(oldLine[1]);
  const blank = lines.indexOf('', 1);
  if (blank < 0 || blank - 1 > MAX_PROOF_LINES)
    return refuse(400, 'at most 63 proof lines, then a blank line');
  const proof: Uint8Array[] = [];
  for (const line of lines.slice(1, blank)) {
    const hash = Buffer.from(line, 'base64');
    if (hash.byteLength !== 32 || hash.toString('base64') !== line)
      return refuse(400, 'each proof line is one base64 SHA-256 hash');
    proof.push(new Uint8Array(hash));
  }
  const note = lines.slice(blank + 1).join('\n');
  const origin = note.slice(0, note.indexOf('\n'));
  const keys = input.logs.get(origin);
  if (keys === undefined) return refuse(404, 'this witness does not follow that log');
  let checkpoint: Checkpoint;
  let text: string;
  try {
    const opened = openNote(note, keys);
    if (opened.signatures.length === 0) return refuse(403, 'no signature by a key of the log');
    text = opened.text;
    checkpoint = parseCheckpoint(text);
  } catch (error) {
    if (isVeriteeError(error) && error.code === 'NOTE_BAD_SIGNATURE')
      return refuse(403, 'a signature by a key of the log does not verify');
    return refuse(400, 'the checkpoint is not a signed C2SP checkpoint');
  }
  if (old > checkpoint.size) return refuse(400, 'the old size is larger than the checkpoint');
  const last = input.lastCosigned(origin) ?? { size: 0, rootHash: new Uint8Array(32) };
  if (old !== last.size)
    return { status: 409, contentType: 'text/x.tlog.size', body: `${last.size}\n` };
  if (old === 0 && proof.length > 0) return refuse(400, 'the proof from size 0 is empty');
  if (old === checkpoint.size && old > 0) {
    if (!Buffer.from(last.rootHash).equals(checkpoint.rootHash))
      return refuse(409, 'the same size with another root: the log forked');
  } else if (
    old > 0 &&
    !verifyConsistency(old, checkpoint.size, proof, last.rootHash, checkpoint.rootHash)
  ) {
    return refuse(422, 'the consistency proof does not verify');
  }
  const timestamp = Math.floor(input.now.getTime() / 1000);
  return {
    status: 200,
    contentType: TEXT,
    body: signatureLine(input.key, text, timestamp),
    record: { origin, tree: { size: checkpoint.size, rootHash: checkpoint.rootHash } },
  };
}
