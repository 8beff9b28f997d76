/**
 * `veritee sim snp|nitro`: writes simulated evidence that carries its own
 * endorsement (the SNP certificate table, the Nitro cabundle), signed by this
 * machine's dev PKI, so `veritee verify --allow-simulated FILE` needs no other file.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fromHex } from '@veritee/attestations';
import { isSnpProduct } from '@veritee/attestations/snp';
import { createSimulator } from '@veritee/attestations/sim';
import { loadOrCreateDevPki } from '@veritee/mock/dev-pki';
import { UsageError } from '../usage-error.js';

export const SIM_USAGE = `Usage: veritee sim snp [options] --out <file>
       veritee sim nitro [options] --out <file>

Writes simulated evidence in the exact hardware format, signed by this machine's
dev PKI ($VERITEE_HOME/dev-pki.json, created on first use).

snp options:
  --version <2|3|5>      report version (default 5)
  --product <name>       Milan, Genoa or Turin (default Milan)
  --vlek                 sign with a VLEK instead of a VCEK
  --debug                set the guest policy's DEBUG bit
  --report-data <hex>    up to 64 bytes, zero-padded
nitro options:
  --debug                debug-mode enclave (all PCRs zero)
  --nonce <hex>          nonce (up to 512 bytes)
  --user-data <hex>      user data (up to 512 bytes)
  --public-key <hex>     public key (up to 1024 bytes)
both:
  --at <ISO time>        time of the evidence (default: now)
  --out <file>           where to write it
`;

export interface SimDeps {
  readonly now: () => Date;
  readonly home: string;
  readonly progress: (line: string) => void;
}

export async function runSim(
  argv: readonly string[],
  deps: SimDeps,
  write: (text: string) => void,
): Promise<number> {
  const [kind, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      version: { type: 'string', default: '5' },
      product: { type: 'string', default: 'Milan' },
      vlek: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      'report-data': { type: 'string' },
      nonce: { type: 'string' },
      'user-data': { type: 'string' },
      'public-key': { type: 'string' },
      at: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || kind === '--help' || kind === 'help') {
    write(SIM_USAGE);
    return 0;
  }
  if (kind !== 'snp' && kind !== 'nitro')
    throw new UsageError('say which hardware to simulate: `sim snp` or `sim nitro`');
  if (values.out === undefined) throw new UsageError('--out <file> is required');
  const at = values.at === undefined ? deps.now() : new Date(values.at);
  if (Number.isNaN(at.getTime())) throw new UsageError('--at must be an ISO 8601 time');

  const simulator = createSimulator(await loadOrCreateDevPki(deps.home, deps.now(), deps.progress));
  let evidence: Uint8Array;
  let description: string;
  if (kind === 'snp') {
    const version = Number(values.version);
    if (version !== 2 && version !== 3 && version !== 5)
      throw new UsageError('--version must be 2, 3 or 5');
    if (!isSnpProduct(values.product))
      throw new UsageError('--product must be Milan, Genoa or Turin');
    const reportData = new Uint8Array(64);
    if (values['report-data'] !== undefined)
      reportData.set(hexOption(values['report-data'], '--report-data', 64));
    const signingKey = values.vlek ? 'VLEK' : 'VCEK';
    ({ evidence } = await simulator.snp({
      at,
      version,
      product: values.product,
      signingKey,
      debug: values.debug,
      reportData,
    }));
    description = `SEV-SNP v${version} report (${values.product}, ${signingKey}${values.debug ? ', debug' : ''}) with its certificate table`;
  } else {
    const optional = (name: 'nonce' | 'user-data' | 'public-key', max: number) =>
      values[name] === undefined ? null : hexOption(values[name], `--${name}`, max);
    ({ evidence } = await simulator.nitro({
      at,
      debug: values.debug,
      nonce: optional('nonce', 512),
      userData: optional('user-data', 512),
      publicKey: optional('public-key', 1024),
    }));
    description = `Nitro attestation document${values.debug ? ' (debug mode)' : ''} with its cabundle`;
  }
  await writeFile(values.out, evidence);
  write(
    `wrote a simulated ${description}: ${values.out} (${evidence.byteLength} bytes)\nverify it with: npx veritee verify --allow-simulated ${values.out}\n`,
  );
  return 0;
}

function hexOption(value: string, name: string, maxBytes: number): Uint8Array {
  const bytes = fromHex(value);
  if (bytes === undefined || bytes.byteLength > maxBytes)
    throw new UsageError(`${name} must be hex of at most ${maxBytes} bytes`);
  return bytes;
}
