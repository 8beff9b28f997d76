/**
 * The log's checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint),
 * signed with the log's Ed25519 note key, whose name is the log's origin.
 * `current` is the checkpoint of the log's size now; `published` is what
 * `/checkpoint` serves: with witnesses, the newest checkpoint they were asked
 * to cosign, carrying every cosignature gathered; without, the current one.
 */
import { formatCheckpoint, signNote, type NoteSigner } from '@veritee/attestations/tlog';
import type { ReceiptLog } from './receipt-log.js';

export interface SignedCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The checkpoint's note text (origin, size, root). */
  readonly text: string;
  /** The signed note: the text, then the log's signature and any cosignatures. */
  readonly note: string;
}

export interface Checkpoints {
  readonly origin: string;
  /** The log's note verifier key, `<origin>+<key ID>+<key>`. */
  readonly vkey: string;
  current(): Promise<SignedCheckpoint>;
  published(): Promise<SignedCheckpoint>;
  /** Replaces what is published (the witnessing round does, once it has cosignatures). */
  publish(checkpoint: SignedCheckpoint): void;
}

export function createCheckpoints(deps: {
  readonly log: ReceiptLog;
  readonly signer: NoteSigner;
  /** True when witnesses publish; false: the current checkpoint is always published. */
  readonly witnessed: boolean;
}): Checkpoints {
  const { log, signer } = deps;
  // Signing is cheap but not free: one signature per size, shared by every reader.
  let latest: Promise<SignedCheckpoint> | undefined;
  let latestSize = -1;
  let witnessed: SignedCheckpoint | undefined;

  async function sign(size: number): Promise<SignedCheckpoint> {
    const rootHash = await log.root(size);
    const text = formatCheckpoint({ origin: signer.name, size, rootHash, extensions: [] });
    return { size, rootHash, text, note: signNote(text, [signer]) };
  }

  async function current(): Promise<SignedCheckpoint> {
    const size = await log.size();
    if (latest === undefined || size !== latestSize) {
      latestSize = size;
      latest = sign(size);
      latest.catch(() => {
        latest = undefined;
      });
    }
    return latest;
  }

  return {
    origin: signer.name,
    vkey: signer.vkey,
    current,
    published: async () => (deps.witnessed && witnessed !== undefined ? witnessed : current()),
    publish(checkpoint) {
      if (witnessed === undefined || checkpoint.size >= witnessed.size) witnessed = checkpoint;
    },
  };
}
