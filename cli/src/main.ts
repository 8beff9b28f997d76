/**
 * Entry point of the `veritee` command: the only module that reads argv and the
 * environment and sets the exit status.
 */
import { isVeriteeError } from '@veritee/attestations';
import { runVerify, VERIFY_USAGE } from './commands/verify.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: veritee <command> [options]

Commands:
  verify <evidence-file>   verify SEV-SNP or Nitro evidence and print the verdict

Run \`veritee <command> --help\` for a command's options.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const write = (text: string) => process.stdout.write(text);
  switch (command) {
    case 'verify':
      return runVerify(
        rest,
        {
          now: () => new Date(),
          env: process.env,
          simulatedTrust: () => Promise.resolve(undefined),
        },
        write,
      );
    case undefined:
    case 'help':
    case '--help':
      write(`${USAGE}\n${VERIFY_USAGE}`);
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
    const message = isVeriteeError(error)
      ? `${error.code}: ${error.message}`
      : `INTERNAL_ERROR: ${error instanceof Error ? error.name : 'unknown failure'}`;
    process.stderr.write(`veritee: ${message}\n`);
    process.exitCode =
      error instanceof UsageError || (isVeriteeError(error) && error.code.endsWith('_INVALID'))
        ? 2
        : 1;
  },
);
