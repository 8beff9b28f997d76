/**
 * `veritee attest --host URL`: checks a live enclave as a client would before
 * sending it a prompt (its standing evidence to a trusted root, the evidence
 * policy, the model it serves, and that its code is approved in the
 * verifier's log) without sending it any data.
 */
import { parseArgs } from 'node:util';
import { toHex } from '@veritee/attestations';
import { Refused } from '@veritee/client';
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_USAGE,
  clientFromFlags,
  formatRefusal,
  type ClientFlagDeps,
} from '../client-flags.js';
import { UsageError } from '../usage-error.js';

export const ATTEST_USAGE = `Usage: veritee attest [options]

Verifies the enclave behind a host without sending it any data: its evidence
chain to the vendor's root, the evidence policy, the model hash it serves, the
freshness of its evidence, and that its measurement is approved (in the
verifier's log, each approval proven in it, or by --measurement).

Options:
${CLIENT_FLAGS_USAGE}
`;

export async function runAttest(
  argv: readonly string[],
  deps: ClientFlagDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_FLAGS });
  if (positionals.length > 0) throw new UsageError('attest takes no arguments');
  const { client, host } = await clientFromFlags(values, deps);
  try {
    const { enclave, approval } = await client.attest();
    const measurement = toHex(enclave.verdict.claims.measurement);
    // People's lines, then (with --json) the one JSON document the CLI puts on stdout.
    write(
      [
        `enclave         ${host}`,
        `tee             ${enclave.tee}${enclave.simulated ? ' (SIMULATED hardware)' : ''}`,
        `measurement     ${measurement}`,
        `model hash      ${toHex(enclave.modelHash)}`,
        `evidence issued ${enclave.issuedAt.toISOString()}`,
        `approval        ${approval}`,
        'verdict         ATTESTED: evidence chain, policy, model and approval check out; nothing was sent',
        ...(values.json
          ? [
              JSON.stringify({
                attested: true,
                host,
                tee: enclave.tee,
                simulated: enclave.simulated,
                measurement,
                modelHash: toHex(enclave.modelHash),
                enclaveKey: toHex(enclave.enclaveKey),
                issuedAt: enclave.issuedAt.toISOString(),
                approval,
              }),
            ]
          : []),
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    write(formatRefusal(error, values.json, { attested: false }));
    return 1;
  }
}
