/**
 * Entry point of the `veritee` command: the only module that reads argv, the
 * environment and the clock, owns stdout and stderr, and sets the exit status.
 * Each command's module (and what it pulls in: the AWS SDK, onnxruntime, the
 * CDK) loads only when that command runs, so `verify` and `receipt verify`
 * start fast.
 *
 * Output contract: with --json, stdout holds exactly one JSON document (the
 * result, or `{"error": {code, message}}`) and everything for people goes to
 * stderr. Exit status: 0 done, 1 refused or failed, 2 invalid input data,
 * 64 a usage error (code USAGE: unknown flag, missing value, wrong arguments).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isVeriteeError } from '@veritee/attestations';
import { veriteeHome } from '@veritee/service';
import { UsageError } from './usage-error.js';
import { cliVersion } from './package-info.js';

type Write = (text: string) => void;

interface Context {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly now: () => Date;
}

interface Command {
  readonly summary: string;
  /** Its usage text, for --help. */
  readonly usage: (sub: string | undefined) => Promise<string>;
  readonly run: (argv: readonly string[], context: Context, write: Write) => Promise<number>;
  /** Runs until stopped: its output streams, never buffered for --json. */
  readonly long?: boolean;
}

/** The trust store with this machine's simulator roots, when it has a dev PKI. */
async function simulatedTrust(home: string) {
  const [{ loadDevPki }, { defaultTrustStore, mergeTrustStores }, { devTrustStore }] =
    await Promise.all([
      import('@veritee/mock/dev-pki'),
      import('@veritee/attestations/evidence'),
      import('@veritee/attestations/sim'),
    ]);
  const pki = await loadDevPki(home);
  return pki === undefined ? undefined : mergeTrustStores(defaultTrustStore(), devTrustStore(pki));
}

/** What the commands that act as a client (infer, attest, proxy) need. */
function clientDeps(env: NodeJS.ProcessEnv, home: string) {
  return {
    env,
    bundledModelHash: async () =>
      (await import('@veritee/enclave/bundled-model')).bundledModelHash(),
    simulatedTrust: () => simulatedTrust(home),
  };
}

/** Resolves on SIGINT or SIGTERM: long-running commands stop then. */
const stopSignal = () =>
  new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });

const COMMANDS: Record<string, Command> = {
  verify: {
    summary: 'verify <evidence-file>   verify SEV-SNP or Nitro evidence and print the verdict',
    usage: async () => (await import('./commands/verify.js')).VERIFY_USAGE,
    run: async (argv, { env, home, now }, write) =>
      (await import('./commands/verify.js')).runVerify(
        argv,
        { now, env, simulatedTrust: () => simulatedTrust(home) },
        write,
      ),
  },
  attest: {
    summary:
      'attest --host <url>      verify a live enclave (evidence, policy, approval) without sending data',
    usage: async () => (await import('./commands/attest.js')).ATTEST_USAGE,
    run: async (argv, { env, home }, write) =>
      (await import('./commands/attest.js')).runAttest(argv, clientDeps(env, home), write),
  },
  receipt: {
    summary: 'receipt verify|bundle    check a receipt, online or from a one-file bundle',
    usage: async () => (await import('./commands/receipt.js')).RECEIPT_USAGE,
    run: async (argv, { env }, write) =>
      (await import('./commands/receipt.js')).runReceipt(argv, write, env),
  },
  infer: {
    summary:
      'infer --prompt-file F    send a private prompt through a host; print the checked answer',
    usage: async () => (await import('./commands/infer.js')).INFER_USAGE,
    run: async (argv, { env, home }, write) =>
      (await import('./commands/infer.js')).runInfer(
        argv,
        {
          ...clientDeps(env, home),
          stdin: async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
            return Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
          },
          warn: (line) => process.stderr.write(`${line}\n`),
        },
        write,
      ),
  },
  sim: {
    summary: 'sim snp|nitro --out F    write simulated evidence signed by this machine’s dev PKI',
    usage: async () => (await import('./commands/sim.js')).SIM_USAGE,
    run: async (argv, { home, now }, write) =>
      (await import('./commands/sim.js')).runSim(
        argv,
        { now, home, progress: (line) => process.stderr.write(`${line}\n`) },
        write,
      ),
  },
  operator: {
    summary:
      'operator <action>        register|retire|list images, seal-model, measure-snp, log-key, snp-guest',
    usage: async (sub) => {
      switch (sub) {
        case 'measure-snp':
          return (await import('./commands/measure-snp.js')).MEASURE_SNP_USAGE;
        case 'log-key':
          return (await import('./commands/log-key.js')).LOG_KEY_USAGE;
        case 'snp-guest':
          return (await import('./commands/snp-guest.js')).SNP_GUEST_USAGE;
        case undefined:
        default:
          return (await import('./commands/operator.js')).OPERATOR_USAGE;
      }
    },
    run: async (argv, { env }, write) =>
      (await import('./commands/operator.js')).runOperator(argv, { env }, write),
  },
  proxy: {
    summary:
      'proxy                    the OpenAI API on 127.0.0.1, every answer verified before it is returned',
    usage: async () => (await import('./commands/proxy.js')).PROXY_USAGE,
    long: true,
    run: async (argv, { env, home }, write) =>
      (await import('./commands/proxy.js')).runProxy(
        argv,
        { ...clientDeps(env, home), stopped: stopSignal() },
        write,
      ),
  },
  witness: {
    summary: 'witness --name N --log K run a witness that cosigns a log’s consistent checkpoints',
    usage: async () => (await import('./commands/witness.js')).WITNESS_USAGE,
    long: true,
    run: async (argv, { env, now }, write) =>
      (await import('./commands/witness.js')).runWitness(
        argv,
        {
          env,
          now,
          stopped: stopSignal(),
        },
        write,
      ),
  },
};

const USAGE = `Usage: veritee <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((command) => `  ${command.summary}`)
  .join('\n')}

Options for every command: --help, and --json (one JSON document on stdout).
veritee --version prints the version.
`;

/** Runs the command line; returns the exit status. */
async function main(argv: readonly string[], write: Write): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    write(`veritee ${cliVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    write(USAGE);
    return name === undefined ? 64 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined)
    throw new UsageError(
      `unknown command ${JSON.stringify(name.slice(0, 32))}; one of ${Object.keys(COMMANDS).join(', ')}`,
    );
  if (rest.includes('--help') || rest.includes('-h') || rest[0] === 'help') {
    write(await command.usage(rest[0]));
    return 0;
  }
  // VERITEE_HOME, else the .veritee of the directory `npm start` runs the system from, else ~/.veritee.
  const home =
    process.env['VERITEE_HOME'] ??
    (existsSync(join('.veritee', 'dev-pki.json')) ? resolve('.veritee') : veriteeHome(process.env));
  return command.run(
    rest,
    { env: { ...process.env, VERITEE_HOME: home }, home, now: () => new Date() },
    write,
  );
}

/** A usage error: ours, or node:util parseArgs refusing an option or a value. */
function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    (error instanceof TypeError &&
      String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'))
  );
}

/** The code and message of a failure; typed errors carry safe messages, anything else none. */
function describe(error: unknown): { code: string; message: string } {
  if (error instanceof UsageError) return { code: error.code, message: error.message };
  if (isUsageError(error))
    return { code: 'USAGE', message: (error as Error).message.slice(0, 200) };
  if (isVeriteeError(error)) return { code: error.code, message: error.message };
  return {
    code: 'INTERNAL_ERROR',
    message: error instanceof Error ? error.name : 'unknown failure',
  };
}

const argv = process.argv.slice(2);
const command = COMMANDS[argv[0] ?? ''];
// With --json, what a command writes is held: its last JSON line goes to stdout, the rest to stderr.
const json = argv.includes('--json') && command?.long !== true;
const held: string[] = [];
const write: Write = json
  ? (text) => void held.push(text)
  : (text) => void process.stdout.write(text);

main(argv, write).then(
  (status) => {
    if (json) {
      const lines = held.join('').split('\n');
      const last = lines.findLastIndex((line) => /^[[{]/.test(line.trim()));
      const human = lines.filter((line, index) => index !== last && line !== '');
      if (human.length > 0) process.stderr.write(`${human.join('\n')}\n`);
      process.stdout.write(`${last >= 0 ? lines[last] : JSON.stringify({ status })}\n`);
    }
    process.exitCode = status;
  },
  (error: unknown) => {
    const { code, message } = describe(error);
    if (json) {
      process.stderr.write(held.join(''));
      process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    }
    process.stderr.write(`veritee: ${code}: ${message}\n`);
    process.exitCode = isUsageError(error)
      ? 64
      : isVeriteeError(error) && error.code.endsWith('_INVALID')
        ? 2
        : 1;
  },
);
