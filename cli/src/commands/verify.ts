/**
 * `veritee verify <evidence-file>`: appraises SEV-SNP or Nitro evidence and
 * prints the parsed fields and the verdict; with --json the last line is one
 * JSON object. Exit status 0 only for authentic evidence that passes the policy.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@veritee/attestations';
import { appraise, type TrustStore, type Appraisal } from '@veritee/attestations/evidence';
import { parsePolicy, DEFAULT_POLICY, type Policy } from '@veritee/attestations/policy';
import { isSnpProduct } from '@veritee/attestations/snp';
import { createKdsSource } from '@veritee/kds';
import { UsageError } from '../usage-error.js';
import { readInput } from '../input-file.js';
import { formatVerdict } from '../print.js';

export const VERIFY_USAGE = `Usage: veritee verify <evidence-file> [options]

Verifies a raw SEV-SNP report, an SNP report followed by its certificate table,
or a Nitro attestation document, against the real AMD and AWS roots.

Options:
  --endorsement <file>   VCEK or VLEK certificate (DER or PEM), when the evidence lacks it
  --product <name>       Milan, Genoa or Turin (needed to fetch the VCEK of a v2 report)
  --at <ISO time>        time of verification (default: now)
  --policy <file>        policy JSON (veritee.policy/v1; default refuses debug, SMT,
                         migration agents and unchecked revocation)
  --allow-debug          accept debug evidence
  --allow-simulated      trust the local simulator's dev roots too
  --crl <file>           AMD CRL (DER or PEM); may repeat
  --kds-cache <dir>      where fetched KDS collateral is kept (default ~/.cache/veritee/kds)
  --offline              use only given files and the KDS cache, never the network
  --json                 end with one JSON line: verdict, format, codes, fields
`;

export interface VerifyDeps {
  readonly now: () => Date;
  readonly env: NodeJS.ProcessEnv;
  /** The dev trust store for --allow-simulated; undefined when no simulator state exists. */
  readonly simulatedTrust: () => Promise<TrustStore | undefined>;
}

/** Runs the command; resolves to the process exit status. */
export async function runVerify(
  argv: readonly string[],
  deps: VerifyDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      endorsement: { type: 'string' },
      product: { type: 'string' },
      at: { type: 'string' },
      policy: { type: 'string' },
      'allow-debug': { type: 'boolean', default: false },
      'allow-simulated': { type: 'boolean', default: false },
      crl: { type: 'string', multiple: true },
      'kds-cache': { type: 'string' },
      offline: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    write(VERIFY_USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('give exactly one evidence file');
  if (values.product !== undefined && !isSnpProduct(values.product))
    throw new UsageError('--product must be Milan, Genoa or Turin');
  const at = values.at === undefined ? deps.now() : new Date(values.at);
  if (Number.isNaN(at.getTime())) throw new UsageError('--at must be an ISO 8601 time');

  let policy: Policy = DEFAULT_POLICY;
  if (values.policy !== undefined)
    policy = parsePolicy(parseJson(await readInput(values.policy, 'policy'), values.policy));
  if (values['allow-debug']) policy = { ...policy, allowDebug: true };

  let trust: TrustStore | undefined;
  if (values['allow-simulated']) {
    trust = await deps.simulatedTrust();
    if (trust === undefined)
      throw new UsageError(
        '--allow-simulated: no simulator dev roots exist yet; run `veritee sim` first',
      );
  }
  const cacheDir =
    values['kds-cache'] ??
    join(deps.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'veritee', 'kds');
  const verdict = await appraise(
    {
      evidence: await readInput(file, 'evidence'),
      endorsement:
        values.endorsement === undefined
          ? undefined
          : await readInput(values.endorsement, 'endorsement'),
      product: values.product,
      crls: await Promise.all((values.crl ?? []).map((crl) => readInput(crl, 'CRL'))),
    },
    {
      at,
      policy,
      trust,
      allowSimulated: values['allow-simulated'],
      collateral: createKdsSource({ cacheDir, offline: values.offline }),
    },
  );
  write(formatVerdict(verdict, values.json));
  return verdict.verdict === 'accept' ? 0 : 1;
}

function parseJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new ConfigError('POLICY_INVALID', `policy file ${JSON.stringify(path)} is not JSON`);
  }
}

export type { Appraisal };
