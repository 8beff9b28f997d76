/**
 * `veritee operator register|retire|list`: an operator approves (or withdraws)
 * the images the verifier accepts, through its admin API, and lists them. Each
 * change becomes a new policy version recorded in the verifier's log.
 */
import { fetchBounded } from '@veritee/http';
import { readFile, writeFile } from 'node:fs/promises';
import { KMSClient } from '@aws-sdk/client-kms';
import { sealModelWithKms } from '@veritee/infra';
import { parseArgs } from 'node:util';
import { ConfigError, toHex, UpstreamError } from '@veritee/attestations';
import { claimedMeasurement } from '@veritee/attestations/evidence';
import {
  ANY_MODEL,
  applyChange,
  parseReferenceValue,
  type Approvals,
  type PolicyChangeClaims,
  type ReferenceValue,
} from '@veritee/attestations/receipt';
import { modelHash, parseEnclaveEvidence, sha256 } from '@veritee/attestations/wire';
import { UsageError } from '../usage-error.js';
import { serviceUrl } from '../service-url.js';
import { runMeasureSnp } from './measure-snp.js';
import { runLogKey } from './log-key.js';
import { runSnpGuest } from './snp-guest.js';

export const OPERATOR_USAGE = `Usage: veritee operator register|retire [options]
       veritee operator list [--verifier <url>] [--json]
       veritee operator seal-model --kms-key-id <key> --model <file> --out <file>
       veritee operator measure-snp --ovmf <file> --vcpus <n> [...]   (--help for more)
       veritee operator log-key --origin <origin> --out <file>   (the log's note key)
       veritee operator snp-guest --kernel <f> --ovmf <f> --out <dir>   (the measured SEV-SNP guest)

seal-model encrypts model weights under a fresh AWS KMS data key
(veritee.sealed-model/v1); only an enclave the key policy admits can have the
key released (AWS credentials and region: the SDK's usual chain;
--kms-endpoint or $VERITEE_KMS_ENDPOINT for another endpoint).

Registers (or retires) reference values with the verifier's admin API: each
change is a new policy version, recorded in the verifier's log.

What:
  --measurement <hex>     an SEV-SNP launch measurement (48 bytes); repeat for several
  --pcrs <file>           Nitro PCRs: the JSON \`nitro-cli build-enclave\` prints
                          ({"Measurements": {"PCR0": ..., "PCR1": ..., "PCR2": ...}})
For which model (optional; unset: any model):
  --model-hash <hex>      the model hash (veritee.model/v1)
  --model <file> --model-config <file>   ... or the model and its config, hashed here
Where:
  --verifier <url>        default $VERITEE_VERIFIER_URL or http://127.0.0.1:7003
  --token-file <file>     the admin token (default $VERITEE_ADMIN_TOKEN)
  --note <text>           recorded with the change (at most 200 characters)
  --host <url>            the host whose enclave runs now (default $VERITEE_HOST_URL
                          or http://127.0.0.1:7000): a first registration that
                          would lock that enclave out asks for --yes
  --yes                   register even so
  --json                  one JSON line per change

list prints every approval in force and each change with its log position.
`;

export interface OperatorDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the ${what} file ${JSON.stringify(path)}`);
  }
}

/** The PCRs of `nitro-cli build-enclave` or `describe-eif` output, lower-cased. */
export function pcrsFromNitroCli(text: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError('the --pcrs file is not JSON');
  }
  const measurements = (json as { Measurements?: Record<string, unknown> }).Measurements ?? json;
  const pcrs: Record<string, string> = {};
  for (const index of [0, 1, 2, 8]) {
    const value = (measurements as Record<string, unknown>)[`PCR${index}`];
    if (typeof value === 'string') pcrs[`pcr${index}`] = value.toLowerCase();
  }
  if (pcrs['pcr0'] === undefined) throw new UsageError('the --pcrs file names no PCR0');
  return pcrs;
}

export async function runOperator(
  argv: readonly string[],
  deps: OperatorDeps,
  write: (text: string) => void,
): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'seal-model') return runSealModel(rest, deps, write);
  if (action === 'measure-snp') return runMeasureSnp(rest, write);
  if (action === 'list') return runList(rest, deps, write);
  if (action === 'log-key') return runLogKey(rest, write);
  if (action === 'snp-guest') return runSnpGuest(rest, write, deps.env);
  if (action !== 'register' && action !== 'retire') {
    write(OPERATOR_USAGE);
    return action === '--help' || action === 'help' ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      measurement: { type: 'string', multiple: true },
      pcrs: { type: 'string' },
      'model-hash': { type: 'string' },
      model: { type: 'string' },
      'model-config': { type: 'string' },
      verifier: { type: 'string' },
      'token-file': { type: 'string' },
      note: { type: 'string' },
      host: { type: 'string' },
      yes: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  void positionals;
  const measurements = values.measurement ?? [];
  if (measurements.length > 0 === (values.pcrs !== undefined))
    throw new UsageError('give --measurement (one or more) or --pcrs, not both');

  let model: string | undefined = values['model-hash']?.toLowerCase();
  if (values.model !== undefined || values['model-config'] !== undefined) {
    if (model !== undefined) throw new UsageError('give --model-hash or --model, not both');
    if (values.model === undefined || values['model-config'] === undefined)
      throw new UsageError('--model needs --model-config: the model hash covers both');
    const [bytes, config] = await Promise.all([
      readFile(values.model).catch(() => {
        throw new UsageError(`cannot read the model file ${JSON.stringify(values.model)}`);
      }),
      readFile(values['model-config']).catch(() => {
        throw new UsageError(
          `cannot read the model config ${JSON.stringify(values['model-config'])}`,
        );
      }),
    ]);
    model = toHex(modelHash(sha256(bytes), sha256(config)));
  }
  const forModel = model === undefined ? {} : { modelHash: model };
  // Checked here as the verifier will: a typo is caught before anything is sent.
  const references: ReferenceValue[] =
    values.pcrs === undefined
      ? measurements.map((measurement) =>
          parseReferenceValue({
            tee: 'sev-snp',
            measurement: measurement.toLowerCase(),
            ...forModel,
          }),
        )
      : [
          parseReferenceValue({
            tee: 'nitro',
            pcrs: pcrsFromNitroCli(await readText(values.pcrs, '--pcrs')),
            ...forModel,
          }),
        ];

  const token =
    values['token-file'] === undefined
      ? deps.env['VERITEE_ADMIN_TOKEN']
      : (await readText(values['token-file'], 'token')).trim();
  if (token === undefined || token === '')
    throw new ConfigError(
      'CONFIG_INVALID',
      'the admin token is missing: set VERITEE_ADMIN_TOKEN or --token-file',
    );
  const verifier = serviceUrl(
    values.verifier ?? deps.env['VERITEE_VERIFIER_URL'] ?? 'http://127.0.0.1:7003',
    '--verifier',
  );
  const send = deps.fetch ?? fetch;

  if (action === 'register' && !values.yes) {
    const host = serviceUrl(
      values.host ?? deps.env['VERITEE_HOST_URL'] ?? 'http://127.0.0.1:7000',
      '--host',
    );
    const lockedOut = await locksOutRunningEnclave(verifier, host, references, send);
    if (lockedOut !== undefined) {
      write(
        `WARNING  the verifier's policy is open: this first registration makes it an allow-list\n` +
          `         that excludes the enclave ${host} runs now (${lockedOut}).\n` +
          `         Its answers would get no receipts and clients would refuse it.\n` +
          `         Register its measurement too, or rerun with --yes.\n`,
      );
      return 1;
    }
  }

  for (const reference of references) {
    const response = await fetchBounded(`${verifier}/v1/admin/reference-values`, {
      errorCode: 'VERIFIER_UNAVAILABLE',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        action,
        reference,
        ...(values.note === undefined ? {} : { note: values.note }),
      }),
      timeoutMs: 30_000,
      maxBytes: 1024 * 1024,
      fetch: send,
    });
    let answered: unknown = {};
    try {
      answered = response.json();
    } catch {
      // Judged by its status below.
    }
    const body = answered as {
      version?: number;
      log?: { index?: number };
      code?: string;
      detail?: string;
    };
    const what =
      reference.tee === 'sev-snp'
        ? `sev-snp measurement ${reference.measurement}`
        : `nitro PCR0 ${reference.pcrs.pcr0 ?? ''}`;
    if (response.status !== 201) {
      write(
        values.json
          ? `${JSON.stringify({ ok: false, action, reference, code: body.code ?? 'UNKNOWN' })}\n`
          : `FAILED   ${action} ${what}: ${body.code ?? response.status} ${body.detail ?? ''}\n`,
      );
      return 1;
    }
    write(
      values.json
        ? `${JSON.stringify({ ok: true, action, reference, version: body.version, logIndex: body.log?.index })}\n`
        : `${action === 'register' ? 'registered' : 'retired'} ${what}${model === undefined ? '' : ` for model ${model}`}: policy version ${body.version} (log index ${body.log?.index})\n`,
    );
  }
  return 0;
}

async function runSealModel(
  argv: readonly string[],
  deps: OperatorDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'kms-key-id': { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      'kms-endpoint': { type: 'string' },
    },
  });
  const keyId = values['kms-key-id'];
  if (keyId === undefined || values.model === undefined || values.out === undefined)
    throw new UsageError('seal-model needs --kms-key-id, --model and --out');
  const model = await readFile(values.model).catch(() => {
    throw new UsageError(`cannot read the model file ${JSON.stringify(values.model)}`);
  });
  const endpoint = values['kms-endpoint'] ?? deps.env['VERITEE_KMS_ENDPOINT'];
  const kms = new KMSClient(endpoint === undefined ? {} : { endpoint });
  try {
    const sealed = await sealModelWithKms({ kms, keyId, model });
    await writeFile(values.out, sealed, { mode: 0o644 });
    write(
      `sealed ${values.model} (${model.byteLength} bytes, sha256 ${toHex(sha256(model))}) under KMS key ${keyId} -> ${values.out}\n`,
    );
    return 0;
  } finally {
    kms.destroy();
  }
}

interface PolicyListing {
  readonly id: string;
  readonly version: number;
  readonly policy: {
    readonly snp?: { readonly measurements?: readonly string[] };
    readonly nitro?: { readonly pcrs?: readonly Record<string, string>[] };
  };
  readonly changes: ReadonlyArray<{
    readonly version: number;
    readonly action: string;
    readonly reference: ReferenceValue;
    readonly issuedAt: string;
    readonly log: { readonly index: number };
    readonly note?: string;
  }>;
}

async function policyListing(verifier: string, send: typeof fetch): Promise<PolicyListing> {
  const response = await fetchBounded(`${verifier}/v1/policies`, {
    errorCode: 'VERIFIER_UNAVAILABLE',
    timeoutMs: 30_000,
    maxBytes: 16 * 1024 * 1024,
    fetch: send,
  });
  if (!response.ok)
    throw new UpstreamError('VERIFIER_UNAVAILABLE', `${verifier} answered ${response.status}`);
  return response.json() as PolicyListing;
}

/**
 * The measurement the host's enclave runs, when registering `references` on an
 * open policy would exclude it; undefined when it would not, or when no host
 * answers (then there is nothing running to lock out).
 */
async function locksOutRunningEnclave(
  verifier: string,
  host: string,
  references: readonly ReferenceValue[],
  send: typeof fetch,
): Promise<string | undefined> {
  const listing = await policyListing(verifier, send);
  const tee = references[0]?.tee;
  const open =
    tee === 'sev-snp'
      ? listing.policy.snp?.measurements === undefined
      : listing.policy.nitro?.pcrs === undefined;
  if (!open) return undefined;
  let standing;
  try {
    const response = await fetchBounded(`${host}/v1/attestation`, {
      errorCode: 'HOST_UNAVAILABLE',
      timeoutMs: 5_000,
      maxBytes: 1024 * 1024,
      fetch: send,
    });
    standing = parseEnclaveEvidence(response.json());
  } catch {
    return undefined;
  }
  if (standing.tee !== tee) return undefined;
  const running = toHex(claimedMeasurement(standing.evidence));
  const covered = references.some((reference) =>
    reference.tee === 'sev-snp'
      ? reference.measurement === running
      : reference.pcrs.pcr0 === running,
  );
  return covered ? undefined : `${tee === 'sev-snp' ? 'measurement' : 'PCR0'} ${running}`;
}

/** `veritee operator list`: the approvals in force, and every change with its log position. */
async function runList(
  argv: readonly string[],
  deps: OperatorDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { verifier: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const verifier = serviceUrl(
    values.verifier ?? deps.env['VERITEE_VERIFIER_URL'] ?? 'http://127.0.0.1:7003',
    '--verifier',
  );
  const listing = await policyListing(verifier, deps.fetch ?? fetch);
  let approvals: Approvals = {};
  for (const change of listing.changes)
    approvals = applyChange(approvals, {
      action: change.action === 'retire' ? 'retire' : 'register',
      reference: change.reference,
    } as PolicyChangeClaims);
  const approved = [
    ...[...(approvals.snp ?? [])].map(([measurement, models]) => ({
      tee: 'sev-snp',
      measurement,
      models: [...models],
    })),
    ...[...(approvals.nitro?.values() ?? [])].map(({ pcrs, models }) => ({
      tee: 'nitro',
      pcrs,
      models: [...models],
    })),
  ];
  if (values.json) {
    write(
      `${JSON.stringify({ policy: { id: listing.id, version: listing.version }, approved, changes: listing.changes })}\n`,
    );
    return 0;
  }
  const lines = [
    `policy   ${listing.id} version ${listing.version}${approved.length === 0 ? ' (open: nothing registered)' : ''}`,
    ...approved.map(
      (entry) =>
        `approved ${entry.tee} ${'measurement' in entry ? entry.measurement : `PCR0 ${entry.pcrs.pcr0 ?? ''}`} for ${entry.models.map((m) => (m === ANY_MODEL ? 'any model' : `model ${m}`)).join(', ')}`,
    ),
    ...listing.changes.map(
      (change) =>
        `v${change.version}      ${change.action.padEnd(8)} ${change.reference.tee === 'sev-snp' ? change.reference.measurement : `PCR0 ${change.reference.pcrs.pcr0 ?? ''}`}${change.reference.modelHash === undefined ? '' : ` model ${change.reference.modelHash}`}  log index ${change.log.index}, ${change.issuedAt}${change.note === undefined ? '' : `  "${change.note}"`}`,
    ),
  ];
  write(`${lines.join('\n')}\n`);
  return 0;
}
