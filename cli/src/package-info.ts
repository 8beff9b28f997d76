/**
 * Where the CLI package is installed, found from this module's own location
 * by walking up to its package.json: the same answer from the sources, the
 * compiled dist/ and the single-file bundle/, whatever their depth.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Manifest {
  readonly name?: string;
  readonly version: string;
}

function find(): { dir: string; manifest: Manifest } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
      if (manifest.name === '@veritee/cli') return { dir, manifest };
    }
    if (dirname(dir) === dir)
      throw new Error('the @veritee/cli package.json is not above this module');
  }
}

let found: ReturnType<typeof find> | undefined;

/** The CLI's version, from its package.json. */
export const cliVersion = (): string => (found ??= find()).manifest.version;

/** The repository the CLI runs from (its package's parent directory). */
export const repositoryRoot = (): string => dirname((found ??= find()).dir);
