/**
 * The options `infer` and `attest` share: which host, which verifier vouches
 * for the enclave's code, and what the client requires of the enclave. One
 * parser and one client constructor for both.
 */
import { ConfigError } from '@veritee/attestations';
import type { TrustStore } from '@veritee/attestations/evidence';
import { parsePolicy } from '@veritee/attestations/policy';
import { createClient, type Client, type Refused } from '@veritee/client';
import { UsageError } from './usage-error.js';
import { serviceUrl } from './service-url.js';
import { readInputText } from './input-file.js';

export const CLIENT_FLAGS_USAGE = `  --host <url>          the host (default $VERITEE_HOST_URL or http://127.0.0.1:7000)
  --verifier <url>      the verifier whose receipt is required and checked, and
                        whose log approves enclave images (default
                        $VERITEE_VERIFIER_URL or http://127.0.0.1:7003; "none"
                        to accept answers without checking a receipt)
  --model <hex>         an allowed model hash; repeat for several
                        (default the bundled model's hash)
  --policy <file>       the evidence policy JSON (default: debug refused)
  --measurement <hex>   only this measurement (SEV-SNP) or PCR0 (Nitro); repeat
                        for several (default: what the verifier's log approves,
                        each approval proven in it)
  --any-measurement     whatever code the enclave runs (said so)
  --allow-simulated     trust this machine's simulator dev roots
  --max-age <seconds>   oldest enclave evidence accepted (default 600)
  --json                one JSON document on stdout`;

export const CLIENT_FLAGS = {
  host: { type: 'string' },
  verifier: { type: 'string' },
  model: { type: 'string', multiple: true },
  policy: { type: 'string' },
  'allow-simulated': { type: 'boolean', default: false },
  measurement: { type: 'string', multiple: true },
  'any-measurement': { type: 'boolean', default: false },
  'max-age': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export interface ClientFlagValues {
  readonly host?: string | undefined;
  readonly verifier?: string | undefined;
  readonly model?: string[] | undefined;
  readonly policy?: string | undefined;
  readonly 'allow-simulated'?: boolean | undefined;
  readonly measurement?: string[] | undefined;
  readonly 'any-measurement'?: boolean | undefined;
  readonly 'max-age'?: string | undefined;
}

export interface ClientFlagDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly bundledModelHash: () => Promise<string>;
  readonly simulatedTrust: () => Promise<TrustStore | undefined>;
}

/** The client the flags describe, and the verifier they name (`none` for none). */
export async function clientFromFlags(
  values: ClientFlagValues,
  deps: ClientFlagDeps,
): Promise<{ client: Client; host: string; verifier: string }> {
  // An environment variable set to nothing counts as unset.
  const { VERITEE_HOST_URL: hostEnv, VERITEE_VERIFIER_URL: verifierEnv } = deps.env;
  const verifierGiven = values.verifier ?? (verifierEnv || undefined) ?? 'http://127.0.0.1:7003';
  const verifier = verifierGiven === 'none' ? 'none' : serviceUrl(verifierGiven, '--verifier');
  const host = serviceUrl(
    values.host ?? (hostEnv || undefined) ?? 'http://127.0.0.1:7000',
    '--host',
  );
  let trust: TrustStore | undefined;
  if (values['allow-simulated'] === true) {
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
      json = JSON.parse(await readInputText(values.policy, 'policy'));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`the policy file ${JSON.stringify(values.policy)} is not JSON`);
    }
    evidencePolicy = parsePolicy(json);
  }
  if (values['any-measurement'] === true && values.measurement !== undefined)
    throw new UsageError('--measurement and --any-measurement contradict each other');
  const maxAge = values['max-age'] === undefined ? undefined : Number(values['max-age']);
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge > 0))
    throw new UsageError('--max-age takes a whole number of seconds');
  const client = createClient({
    host,
    verifier: verifier === 'none' ? undefined : verifier,
    trust,
    policy: {
      models: values.model ?? [await deps.bundledModelHash()],
      evidence: evidencePolicy,
      allowSimulated: values['allow-simulated'] === true,
      maxEvidenceAgeSeconds: maxAge,
      measurements:
        values['any-measurement'] === true
          ? 'any'
          : (values.measurement?.map((hex) => hex.toLowerCase()) ?? 'approved'),
    },
  });
  return { client, host, verifier };
}

/** What a refusal prints: every code and the reason, for people or as the JSON document. */
export function formatRefusal(
  error: Refused,
  json: boolean,
  fields: Readonly<Record<string, unknown>>,
): string {
  return json
    ? `${JSON.stringify({ ...fields, codes: error.codes, detail: error.message })}\n`
    : `REFUSED           ${error.codes.join(' ')}\n  ${error.message}\n`;
}
