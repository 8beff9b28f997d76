import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const run = promisify(execFile);

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `veritee` command on its sources in a child process. */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [
        '--conditions=veritee-source',
        '--import',
        'tsx',
        join(repoRoot, 'cli/src/main.ts'),
        ...args,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
      },
    );
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { status: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** The JSON object on the last line of `--json` output. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as T;
}

/** A long-running `veritee` command (a witness, say), started once it says where it listens. */
export interface RunningCli {
  readonly url: string;
  readonly banner: string;
  stop(): Promise<void>;
}

export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningCli> {
  const child = spawn(
    process.execPath,
    ['--conditions=veritee-source', '--import', 'tsx', join(repoRoot, 'cli/src/main.ts'), ...args],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let banner = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return new Promise((resolveStart, reject) => {
    const early = () => reject(new Error(`veritee ${args[0] ?? ''} exited: ${errors.trim()}`));
    child.once('exit', early);
    child.stdout.on('data', (chunk: Buffer) => {
      banner += chunk.toString('utf8');
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(banner);
      if (match === null || !banner.endsWith('\n')) return;
      child.off('exit', early);
      resolveStart({
        url: match[1] ?? '',
        banner,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** A `veritee witness` process following one log, with its cosignature key. */
export async function startWitness(
  data: string,
  name: string,
  logKey: string,
): Promise<RunningCli & { readonly key: string }> {
  const witness = await startCli([
    'witness',
    '--name',
    name,
    '--log',
    logKey,
    '--listen',
    '127.0.0.1:0',
    '--data',
    data,
  ]);
  return { ...witness, key: /key +(\S+)/.exec(witness.banner)?.[1] ?? '' };
}
