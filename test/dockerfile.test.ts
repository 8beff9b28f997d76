/**
 * The service images' Dockerfile and build context, checked without a
 * container builder (CI builds the images when one is there): a base pinned
 * by digest, non-root services, production dependencies only, every COPY
 * source in the context, and a context (after .dockerignore, read with
 * Docker's own matching rules) that holds no tests and no private key.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { ROOT } from './source-files.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
// Instructions, continuation lines joined, comments dropped.
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
// A CommonJS module: its function is the default export's `default`.
const ignored = dockerignoreModule
  .default({ ignorecase: false })
  .add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

/** The files git would hold (no node_modules or build output), relative to the root. */
function repositoryFiles(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === '.git' || name === 'dist') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? repositoryFiles(path) : [relative(ROOT, path)];
  });
}
const context = repositoryFiles().filter((file) => !ignored.ignores(file));

/** The stages: name and instructions. */
function stages(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from !== null) {
      current = [];
      found.set(from[1] ?? `stage${found.size}`, current);
    }
    current.push(line);
  }
  return found;
}

describe('Dockerfile', () => {
  it('builds from one base image pinned by digest', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.match(base ?? '', /^node:20-[a-z]+-slim@sha256:[0-9a-f]{64}$/);
    const names = [...stages().keys()];
    for (const line of instructions.filter((l) => /^FROM /i.test(l))) {
      const image = line.split(/\s+/)[1] ?? '';
      assert.ok(image === '${NODE_IMAGE}' || names.includes(image), `unpinned base: ${line}`);
    }
  });

  it('runs the verifier and the host as a non-root user from their built entry points', () => {
    const all = stages();
    for (const [target, source] of [
      ['verifier', 'verifier/src/main.ts'],
      ['host', 'host/src/main.ts'],
    ] as const) {
      // A target's instructions: its own and those of the stages it is built FROM.
      const chain: string[] = [];
      for (let name: string | undefined = target; name !== undefined;) {
        const own: string[] = all.get(name) ?? [];
        chain.unshift(...own);
        name = /^FROM\s+(\S+)/i.exec(own[0] ?? '')?.[1];
        if (name === '${NODE_IMAGE}') break;
      }
      const user = chain.filter((l) => /^USER /i.test(l)).at(-1);
      assert.equal(user, 'USER node', `${target} runs as node`);
      const entry = chain.find((l) => /^ENTRYPOINT /i.test(l)) ?? '';
      const main = /"([\w/]+\/dist\/main\.js)"/.exec(entry)?.[1];
      assert.equal(main, source.replace('/src/', '/dist/').replace(/\.ts$/, '.js'));
      assert.ok(existsSync(join(ROOT, source)));
    }
  });

  it('ships production dependencies only, installed from the lockfile', () => {
    const runtime = stages().get('runtime') ?? [];
    const copied = runtime.find((l) => /^COPY --from=build \/src\/node_modules\//.test(l));
    assert.ok(copied !== undefined, 'node_modules come from the build stage');
    const build = (stages().get('build') ?? []).join('\n');
    const install = build.lastIndexOf('npm ci ');
    assert.match(build.slice(install).split('\n')[0] ?? '', /--omit=dev/);
    assert.ok(install > build.indexOf('tsc --build'), 'the production install follows the build');
  });

  it('copies only what the context holds', () => {
    const sources = instructions
      .filter((l) => /^COPY /i.test(l) && !/--from=/.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    assert.ok(sources.length > 10);
    for (const source of sources) {
      const path = source.replace(/\/$/, '');
      assert.ok(existsSync(join(ROOT, path)), `${source} exists`);
      const inside = statSync(join(ROOT, path)).isDirectory()
        ? context.some((file) => file.startsWith(`${path}/`))
        : context.includes(path);
      assert.ok(inside, `${source} is in the build context`);
    }
  });

  it('keeps tests, local state and private keys out of the build context', () => {
    assert.ok(context.includes('verifier/src/main.ts'), 'sources are in');
    const tests = context.filter(
      (file) => /(^|\/)test\//.test(file) && !/^test\/package\.json$/.test(file),
    );
    assert.deepEqual(tests, []);
    const keys = context.filter((file) =>
      /-----BEGIN [A-Z ]*PRIVATE KEY-----|PRIVATE\+KEY\+[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{40,}/.test(
        readFileSync(join(ROOT, file), 'latin1'),
      ),
    );
    assert.deepEqual(keys, [], 'no file in the context holds a private key');
  });
});
