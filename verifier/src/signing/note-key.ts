/**
 * The log's Ed25519 note key, which signs its C2SP checkpoints: made on first
 * start and kept owner-only as `PRIVATE+KEY+<origin>+...` text (the form Go's
 * sumdb/note reads). Its name is the log's origin, fixed when it is made: a
 * log that changed origin would be another log to every witness.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '@veritee/attestations';
import {
  formatNoteSignerKey,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  parseNoteSignerKey,
  type NoteSigner,
} from '@veritee/attestations/tlog';

/**
 * The key from `given` (VERITEE_LOG_NOTE_KEY, from a secret store: replicas
 * sharing a log must share its key), else from `file`, made there on first start.
 * @param origin the configured origin, or undefined to keep the stored one
 * @param defaultOrigin the origin a new key gets when none is configured
 * @throws ConfigError LOG_ORIGIN_CHANGED, SIGNING_KEY_INVALID
 */
export async function openNoteKey(
  file: string,
  origin: string | undefined,
  defaultOrigin: string,
  given?: string,
): Promise<NoteSigner> {
  if (given !== undefined) return namedAs(parsed(given, 'VERITEE_LOG_NOTE_KEY'), origin);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT')
      throw new ConfigError('SIGNING_KEY_INVALID', `the log's note key ${file} cannot be read`);
  }
  if (text === undefined) {
    const signer = noteSignerFromSeed(
      origin ?? defaultOrigin,
      NOTE_SIGNATURE_ED25519,
      randomBytes(32),
    );
    await writeFile(file, `${formatNoteSignerKey(signer)}\n`, { mode: 0o600, flag: 'wx' });
    return signer;
  }
  return namedAs(parsed(text, file), origin);
}

function parsed(text: string, where: string): NoteSigner {
  try {
    return parseNoteSignerKey(text);
  } catch {
    // The message names where the key came from, never the key.
    throw new ConfigError(
      'SIGNING_KEY_INVALID',
      `the log's note key (${where}) is not a note signer key`,
    );
  }
}

function namedAs(signer: NoteSigner, origin: string | undefined): NoteSigner {
  if (origin !== undefined && origin !== signer.name)
    throw new ConfigError(
      'LOG_ORIGIN_CHANGED',
      `VERITEE_LOG_ORIGIN is ${origin}, but this log's note key names ${signer.name}: a log keeps its origin`,
    );
  return signer;
}
