/** `npm run bench`: every benchmark of the project, figures printed, nothing asserted. */
import { cpus } from 'node:os';
import { benchAttestations } from './attestations.js';
import { benchSimulator } from './simulator.js';
import { benchEnclave } from './enclave.js';
import { benchModels } from './models.js';
import { benchSystem } from './system.js';
import { benchVerifier } from './verifier.js';
import { benchCli } from './cli.js';

process.stdout.write(
  `veritee benchmarks on ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n\n`,
);
process.stdout.write('cli: cold start of the installed command\n');
benchCli();
process.stdout.write('\nattestations: verification\n');
await benchAttestations();
process.stdout.write('\nattestations/sim: simulated hardware\n');
await benchSimulator();
process.stdout.write('\nenclave: plain and attested inference (bundled model)\n');
await benchEnclave();
process.stdout.write('\nenclave: other models (OCR; loading a large model)\n');
await benchModels();
process.stdout.write('\nverifier: receipts and proofs\n');
await benchVerifier();
process.stdout.write('\nsystem: enclave, verifier and host as processes, end to end\n');
await benchSystem();
