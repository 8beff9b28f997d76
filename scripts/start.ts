/**
 * `npm start`: the whole system on this machine with its embedded defaults —
 * the enclave (simulated SEV-SNP, bundled model), the verifier (SQLite) and
 * the host, each its own process on 127.0.0.1 — until Ctrl-C.
 * VERITEE_HOME (default ./.veritee) holds the dev PKI, the verifier's log and
 * keys, and each service's log.
 */
import { join } from 'node:path';
import { ROOT, startSystem, type System } from '@veritee/mock/system';

const home = process.env['VERITEE_HOME'] ?? join(ROOT, '.veritee');

process.stdout.write(`Starting Veritee (state in ${home}) ...\n`);
let system: System;
try {
  system = await startSystem({ home, mode: 'dist' });
} catch (error) {
  process.stderr.write(
    `veritee: could not start: ${(error as Error).message}\n` +
      `  (is something else on ports 7000, 7001 or 7003? logs are in ${join(home, 'logs')})\n`,
  );
  process.exit(1);
}
const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
process.stdout.write(
  [
    '',
    indent(system.enclave.banner),
    indent(system.verifier.banner),
    indent(system.host.banner),
    '',
    `Clients talk to the host:         ${system.host.url}  (GET /v1/attestation, POST /v1/infer)`,
    `Relying parties ask the verifier: ${system.verifier.url}  (receipts, log proofs, JWKS)`,
    `Approved in the verifier's log:    the enclave's measurement and model, as an operator registers them`,
    `Admin token (veritee operator):    ${join(home, 'admin-token')}  (--token-file)`,
    `Service logs:                      ${join(home, 'logs')}`,
    `Try it:                            npm run demo   or   echo hello | npx veritee infer --allow-simulated`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping host, verifier and enclave ...\n`);
  void system.stop().then(() => {
    process.stdout.write('stopped.\n');
    process.exit(0);
  });
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// If a service dies on its own, say so and take the rest down too.
for (const service of [system.enclave, system.verifier, system.host]) {
  service.process.once('exit', (code) => {
    if (stopping) return;
    process.stderr.write(`${service.name} exited (${code ?? 'signal'}); see ${service.logFile}\n`);
    stop('service exit');
  });
}
