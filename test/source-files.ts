/** The TypeScript sources (not tests, not builds) of the workspaces that ship, for tests that read them. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

const SHIPPED = [
  'attestations',
  'http',
  'service',
  'kds',
  'infra',
  'enclave',
  'verifier',
  'host',
  'client',
  'cli',
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return name === 'node_modules' || name === 'dist' ? [] : tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every source file of the shipped workspaces (`extra` adds more, e.g. `mock`). */
export function sourceFiles(extra: readonly string[] = []): string[] {
  return [...SHIPPED, ...extra].flatMap((workspace) => tsFiles(join(ROOT, workspace, 'src')));
}
