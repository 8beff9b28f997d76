/**
 * `veritee operator log-key --origin <origin> --out <file>`: makes the Ed25519
 * note key a verifier's log signs its checkpoints with, for replicas that
 * share one log (VERITEE_LOG_NOTE_KEY from a secret store). The private key
 * goes only to the new owner-only file; the verifier key (vkey) relying
 * parties and witnesses pin is printed.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  formatNoteSignerKey,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
} from '@veritee/attestations/tlog';
import { UsageError } from '../usage-error.js';

export const LOG_KEY_USAGE = `Usage: veritee operator log-key --origin <origin> --out <file> [--json]

Makes a log note key (C2SP signed-note, Ed25519) named by the log's origin
(e.g. verifier.example.com/log). The private key is written to <file> (mode
0600, never overwritten) for your secret store; give it to every replica as
VERITEE_LOG_NOTE_KEY. The verifier key printed is what relying parties pin.
`;

export async function runLogKey(
  argv: readonly string[],
  write: (text: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      origin: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    write(LOG_KEY_USAGE);
    return 0;
  }
  const { origin, out } = values;
  if (origin === undefined || out === undefined)
    throw new UsageError('log-key needs --origin <origin> and --out <file>');
  if (!/^[^\s+]+$/.test(origin) || origin.includes('://'))
    throw new UsageError('--origin is a schema-less URL without spaces or "+" (host/log)');
  const signer = noteSignerFromSeed(origin, NOTE_SIGNATURE_ED25519, randomBytes(32));
  try {
    await writeFile(out, `${formatNoteSignerKey(signer)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new UsageError(
      `cannot write ${JSON.stringify(out)}: ${(error as NodeJS.ErrnoException).code ?? 'error'} (an existing key is never overwritten)`,
    );
  }
  write(
    values.json
      ? `${JSON.stringify({ origin, vkey: signer.vkey, file: out })}\n`
      : `log key         ${signer.vkey}\nprivate key     written to ${out} (keep it in your secret store)\n`,
  );
  return 0;
}
