/**
 * Asks the log's witnesses to cosign its checkpoints, with the C2SP
 * tlog-witness protocol (c2sp.org/tlog-witness): POST <witness>/add-checkpoint
 * with `old <size>`, the consistency proof from that size, a blank line and
 * the signed checkpoint. A witness that has seen another size answers 409
 * with it (text/x.tlog.size), and the request is made again from there.
 * Each round publishes the checkpoint with every cosignature that verified.
 */
import { fetchBounded } from '@veritee/http';
import { openNote, type NoteVerifier } from '@veritee/attestations/tlog';
import type { Logger } from '@veritee/service';
import type { Checkpoints, SignedCheckpoint } from './checkpoints.js';
import type { ReceiptLog } from './receipt-log.js';

export interface Witness {
  /** The witness's submission prefix, e.g. `https://witness.example`. */
  readonly url: string;
  /** Its cosignature key (type 0x04). */
  readonly verifier: NoteVerifier;
}

const ANSWER_MAX_BYTES = 16 * 1024;
const TIMEOUT_MS = 5_000;

export interface Witnessing {
  /** One round now: resolves once every witness answered or failed. */
  round(): Promise<void>;
  stop(): void;
}

export function startWitnessing(deps: {
  readonly witnesses: readonly Witness[];
  readonly log: ReceiptLog;
  readonly checkpoints: Checkpoints;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly fetch?: typeof fetch;
}): Witnessing {
  // The size each witness last cosigned (0: not known yet; a 409 tells).
  const witnessedSize = new Map<Witness, number>(deps.witnesses.map((witness) => [witness, 0]));
  let lastSize = -1;
  let running: Promise<void> | undefined;

  async function cosign(witness: Witness, checkpoint: SignedCheckpoint): Promise<string[]> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const old = witnessedSize.get(witness) ?? 0;
      if (old > checkpoint.size) {
        deps.logger.error('a witness has cosigned a larger tree than the log holds', {
          size: old,
          code: 'LOG_WITNESS_AHEAD',
        });
        return [];
      }
      const proof =
        old > 0 && old < checkpoint.size
          ? await deps.log.consistencyProof(old, checkpoint.size)
          : [];
      const body = `old ${old}\n${proof.map((hash) => `${Buffer.from(hash).toString('base64')}\n`).join('')}\n${checkpoint.note}`;
      const response = await fetchBounded(new URL('add-checkpoint', withSlash(witness.url)), {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        errorCode: 'LOG_WITNESS_UNAVAILABLE',
        timeoutMs: TIMEOUT_MS,
        maxBytes: ANSWER_MAX_BYTES,
        ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      });
      const text = new TextDecoder().decode(response.body);
      if (response.status === 409 && /^(0|[1-9][0-9]{0,15})\n$/.test(text)) {
        witnessedSize.set(witness, Number(text.trim()));
        continue;
      }
      if (response.status !== 200) {
        deps.logger.warn(`witness ${witness.verifier.name} answered ${response.status}`, {
          code: 'LOG_WITNESS_REFUSED',
          status: response.status,
        });
        return [];
      }
      // The answer is signature lines: they verify as signatures on the checkpoint's text.
      const opened = openNote(`${checkpoint.text}\n${text}`, [witness.verifier]);
      witnessedSize.set(witness, checkpoint.size);
      return opened.signatures.map((signature) => signature.line);
    }
    return [];
  }

  async function round(): Promise<void> {
    const checkpoint = await deps.checkpoints.current();
    if (checkpoint.size === lastSize) return;
    const lines = await Promise.all(
      deps.witnesses.map((witness) =>
        cosign(witness, checkpoint).catch((error: unknown) => {
          deps.logger.warn(
            `witness ${witness.verifier.name} failed: ${String((error as Error).message)}`,
            {
              code: 'LOG_WITNESS_UNAVAILABLE',
            },
          );
          return [];
        }),
      ),
    );
    // Published with what was gathered; a witness that failed is asked again next round.
    if (lines.every((gathered) => gathered.length > 0)) lastSize = checkpoint.size;
    deps.checkpoints.publish({ ...checkpoint, note: checkpoint.note + lines.flat().join('') });
  }

  const once = () => {
    running ??= round()
      .catch((error: unknown) =>
        deps.logger.error(`a witnessing round failed: ${String((error as Error).message)}`, {
          code: 'LOG_WITNESS_UNAVAILABLE',
        }),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void once(), deps.intervalMs);
  timer.unref();
  return { round: once, stop: () => clearInterval(timer) };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
