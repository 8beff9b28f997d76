/**
 * Where the simulator's dev PKI lives on this machine: `$VERITEE_HOME/dev-pki.json`
 * (default `~/.veritee`), created on first use, owner-only, never replaced once
 * written so evidence made earlier keeps verifying.
 */
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
export { veriteeHome } from '@veritee/service';
import { createDevPki, parseDevPki, serializeDevPki, type DevPki } from '@veritee/attestations/sim';

export function devPkiPath(home: string): string {
  return join(home, 'dev-pki.json');
}

/** The stored dev PKI, or undefined when none was created yet. */
export async function loadDevPki(home: string): Promise<DevPki | undefined> {
  let text: string;
  try {
    text = await readFile(devPkiPath(home), 'utf8');
  } catch {
    return undefined;
  }
  return parseDevPki(text);
}

/** The stored dev PKI, generated and stored first if there is none (takes seconds; `progress` narrates). */
export async function loadOrCreateDevPki(
  home: string,
  now: Date,
  progress: (line: string) => void,
): Promise<DevPki> {
  const existing = await loadDevPki(home);
  if (existing !== undefined) return existing;
  progress(`creating the simulator's dev PKI in ${devPkiPath(home)} (once; about 10 s)`);
  const pki = await createDevPki({ now, onProgress: (step) => progress(`  generating ${step}`) });
  await mkdir(home, { recursive: true, mode: 0o700 });
  const temporary = join(home, `.dev-pki.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, await serializeDevPki(pki), { mode: 0o600 });
  try {
    // link() fails if another process stored one first; then theirs is the one to use.
    await link(temporary, devPkiPath(home));
    return pki;
  } catch {
    return (await loadDevPki(home)) ?? pki;
  } finally {
    await rm(temporary, { force: true });
  }
}
