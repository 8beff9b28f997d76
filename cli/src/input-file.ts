/** Reading the files a command is given: a missing or unreadable file is a usage error naming it. */
import { readFile } from 'node:fs/promises';
import { UsageError } from './usage-error.js';

/** The bytes of `path`; `what` names the file in the error ("receipt", "policy"). */
export async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new UsageError(
      `cannot read the ${what} file ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/** The UTF-8 text of `path`. */
export async function readInputText(path: string, what: string): Promise<string> {
  return new TextDecoder().decode(await readInput(path, what));
}

/**
 * A prompt from a file: its UTF-8 text without one trailing newline (which
 * `echo` and editors add), the same whether it is sent or checked later.
 */
export async function readPromptFile(path: string): Promise<string> {
  return (await readInputText(path, 'prompt')).replace(/\n$/, '');
}
