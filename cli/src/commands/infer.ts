/**
 * `veritee infer "prompt"`: sends a private prompt through a host as a client
 * would. The prompt is sealed to the enclave's attested key only after its
 * evidence passed; the answer is printed only after its binding and receipt
 * were checked.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '@veritee/attestations';
import { type TrustStore } from '@veritee/attestations/evidence';
import { parsePolicy } from '@veritee/attestations/policy';
import { createClient, Refused } from '@veritee/client';
import { UsageError } from '../usage-error.js';

export const INFER_USAGE = `Usage: veritee infer [options] [prompt]

Sends a private prompt (the argument, or standard input when absent or "-") to
the enclave behind a host, and prints the model's output, the receipt id, and
what was verified. The host sees only ciphertext.

Options:
  --host <url>          the host (default $VERITEE_HOST_URL or http://127.0.0.1:7000)
  --verifier <url>      the verifier whose receipt is required and checked
                        (default $VERITEE_VERIFIER_URL or http://127.0.0.1:7003;
                        "none" to accept answers without checking a receipt)
  --model <hex>         an allowed model hash; repeat for several
                        (default the bundled model's hash)
  --policy <file>       the evidence policy JSON (default: debug refused)
  --measurement <hex>   send prompts only to this measurement (SEV-SNP) or PCR0
                        (Nitro); repeat for several (default: what the
                        verifier's log approves, each approval proven in it)
  --any-measurement     send prompts whatever code the enclave runs (said so)
  --allow-simulated     trust this machine's simulator dev roots
  --max-age <seconds>   oldest enclave evidence accepted (default 600)
  --json                print one JSON object
`;

export interface InferDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly bundledModelHash: () => Promise<string>;
  readonly simulatedTrust: () => Promise<TrustStore | undefined>;
  readonly stdin: () => Promise<string>;
}

export async function runInfer(
  argv: readonly string[],
  deps: InferDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      verifier: { type: 'string' },
      model: { type: 'string', multiple: true },
      policy: { type: 'string' },
      'allow-simulated': { type: 'boolean', default: false },
      measurement: { type: 'string', multiple: true },
      'any-measurement': { type: 'boolean', default: false },
      'max-age': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    write(INFER_USAGE);
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError('give the prompt as one argument (quote it) or on standard input');
  const prompt =
    positionals[0] === undefined || positionals[0] === '-' ? await deps.stdin() : positionals[0];
  if (prompt.length === 0) throw new UsageError('the prompt is empty');
  const verifierRaw =
    values.verifier ?? deps.env['VERITEE_VERIFIER_URL'] ?? 'http://127.0.0.1:7003';
  let trust: TrustStore | undefined;
  if (values['allow-simulated']) {
    trust = await deps.simulatedTrust();
    if (trust === undefined)
      throw new ConfigError(
        'CONFIG_INVALID',
        '--allow-simulated needs the dev PKI of $VERITEE_HOME (npm start creates it)',
      );
  }
  let evidencePolicy;
  if (values.policy !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(values.policy, 'utf8'));
    } catch {
      throw new UsageError(`cannot read the policy file ${JSON.stringify(values.policy)}`);
    }
    evidencePolicy = parsePolicy(json);
  }
  if (values['any-measurement'] && values.measurement !== undefined)
    throw new UsageError('--measurement and --any-measurement contradict each other');
  const maxAge = values['max-age'] === undefined ? undefined : Number(values['max-age']);
  const client = createClient({
    host: values.host ?? deps.env['VERITEE_HOST_URL'] ?? 'http://127.0.0.1:7000',
    verifier: verifierRaw === 'none' ? undefined : verifierRaw,
    trust,
    policy: {
      models: values.model ?? [await deps.bundledModelHash()],
      evidence: evidencePolicy,
      allowSimulated: values['allow-simulated'],
      maxEvidenceAgeSeconds: maxAge,
      measurements: values['any-measurement']
        ? 'any'
        : (values.measurement?.map((hex) => hex.toLowerCase()) ?? 'approved'),
    },
  });
  try {
    const result = await client.infer(prompt);
    const { verified, receipt } = result;
    if (values.json) {
      write(
        `${JSON.stringify({
          output: result.output,
          receipt: receipt?.jws ?? null,
          receiptId: receipt?.id ?? null,
          logIndex: receipt?.logIndex ?? null,
          receiptChecked: receipt?.checked !== undefined,
          verified,
          salt: result.salt,
        })}\n`,
      );
      return 0;
    }
    write(
      [
        `output            ${result.output}`,
        receipt === undefined
          ? 'receipt           none'
          : `receipt           ${receipt.id} (log index ${receipt.logIndex}${receipt.checked === undefined ? ', NOT checked' : `, checked against ${verifierRaw}`})`,
        `tee               ${verified.tee}${verified.simulated ? ' (SIMULATED hardware)' : ''}, measurement ${verified.measurement}`,
        `model hash        ${verified.modelHash}`,
        `approval          ${verified.approval}`,
        `input commitment  ${verified.inputCommitment} (salt ${result.salt}: keep it to open the commitment)`,
        `output hash       ${verified.outputHash}`,
        `verified          evidence chain and policy, binding of model, input, output and nonce${verified.batched ? ' (through the batch root)' : ''}${receipt?.checked === undefined ? '' : ', receipt signature and log inclusion'}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    write(
      values.json
        ? `${JSON.stringify({ refused: true, codes: error.codes, detail: error.message })}\n`
        : `REFUSED           ${error.codes.join(' ')}\n  ${error.message}\n`,
    );
    return 1;
  }
}
