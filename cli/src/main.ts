/**
 * Entry point of the `veritee` command: the only module that reads argv, the
 * environment and the clock, and sets the exit status.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isVeriteeError } from '@veritee/attestations';
import { defaultTrustStore, mergeTrustStores } from '@veritee/attestations/evidence';
import { devTrustStore } from '@veritee/attestations/sim';
import { runVerify, VERIFY_USAGE } from './commands/verify.js';
import { runSim, SIM_USAGE } from './commands/sim.js';
import { runReceipt, RECEIPT_USAGE } from './commands/receipt.js';
import { runInfer, INFER_USAGE } from './commands/infer.js';
import { runOperator, OPERATOR_USAGE } from './commands/operator.js';
import { runWitness, WITNESS_USAGE } from './commands/witness.js';
import { bundledModelHash } from '@veritee/enclave/bundled-model';
import { loadDevPki, veriteeHome } from '@veritee/mock/dev-pki';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: veritee <command> [options]

Commands:
  verify <evidence-file>   verify SEV-SNP or Nitro evidence and print the verdict
  sim snp|nitro --out F    write simulated evidence signed by this machine's dev PKI
  receipt verify <file>    verify a receipt's signature and its inclusion in the log
  infer "prompt"           send a private prompt through a host; print the checked answer
  operator register|retire approve or withdraw enclave images with the verifier
  witness --name N --log K run a witness that cosigns a log's consistent checkpoints

Run \`veritee <command> --help\` for a command's options.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const write = (text: string) => process.stdout.write(text);
  const now = () => new Date();
  // VERITEE_HOME, else the .veritee of the directory `npm start` runs the system from, else ~/.veritee.
  const home =
    process.env['VERITEE_HOME'] ??
    (existsSync(join('.veritee', 'dev-pki.json')) ? resolve('.veritee') : veriteeHome(process.env));
  const env = { ...process.env, VERITEE_HOME: home };
  const simulatedTrust = async () => {
    const pki = await loadDevPki(home);
    return pki === undefined
      ? undefined
      : mergeTrustStores(defaultTrustStore(), devTrustStore(pki));
  };
  switch (command) {
    case 'infer':
      return runInfer(
        rest,
        {
          env,
          bundledModelHash,
          simulatedTrust,
          stdin: async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
            return Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
          },
        },
        write,
      );
    case 'operator':
      return runOperator(rest, { env }, write);
    case 'witness':
      return runWitness(
        rest,
        {
          env,
          now,
          stopped: new Promise((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
          }),
        },
        write,
      );
    case 'verify':
      return runVerify(
        rest,
        {
          now,
          env,
          simulatedTrust,
        },
        write,
      );
    case 'receipt':
      return runReceipt(rest, write, env);
    case 'sim':
      return runSim(
        rest,
        { now, home, progress: (line) => process.stderr.write(`${line}\n`) },
        write,
      );
    case undefined:
    case 'help':
    case '--help':
      write(
        `${USAGE}\n${VERIFY_USAGE}\n${SIM_USAGE}\n${RECEIPT_USAGE}\n${INFER_USAGE}\n${OPERATOR_USAGE}\n${WITNESS_USAGE}`,
      );
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 32))}`);
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    // Typed errors carry safe messages; anything else is reported without its details.
    // node:util parseArgs refuses options it was not told of: that is a usage error.
    const parseError =
      error instanceof TypeError &&
      String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
    const message = isVeriteeError(error)
      ? `${error.code}: ${error.message}`
      : parseError
        ? `usage: ${error.message.slice(0, 200)}`
        : `INTERNAL_ERROR: ${error instanceof Error ? error.name : 'unknown failure'}`;
    process.stderr.write(`veritee: ${message}\n`);
    process.exitCode =
      parseError ||
      error instanceof UsageError ||
      (isVeriteeError(error) && error.code.endsWith('_INVALID'))
        ? 2
        : 1;
  },
);
