/**
 * Host configuration from the environment and an optional JSON config file
 * (VERITEE_CONFIG, same names; the environment wins), validated at start;
 * every error names the setting to fix.
 */
import { tcpListen } from '@veritee/service';
import { ConfigError } from '@veritee/attestations';
import { httpUrlSetting, integerSetting } from '@veritee/attestations/config';

export interface HostConfig {
  /** VERITEE_HOST_LISTEN: host:port. Default 127.0.0.1:7000. */
  readonly host: string;
  readonly port: number;
  /** VERITEE_ENCLAVE_URL: http://host:port or unix:/path of the enclave's API. Default http://127.0.0.1:7001. */
  readonly enclave: { readonly url: string; readonly socketPath?: string | undefined };
  /** VERITEE_VERIFIER_URL: the verifier that issues receipts; `none` to relay without receipts. Default http://127.0.0.1:7003. */
  readonly verifierUrl: string | undefined;
  /**
   * VERITEE_RECEIPT_TOKEN: the token the operator gave this host to have
   * receipts issued (the verifier holds its SHA-256). Unset: none is sent.
   */
  readonly receiptToken: string | undefined;
  /** VERITEE_HOST_MAX_BODY: largest sealed request in bytes. Default 1 MiB + 2 KiB. */
  readonly maxBodyBytes: number;
  /** VERITEE_HOST_TIMEOUT_MS: how long the enclave and the verifier may take per call. Default 30 000. */
  readonly timeoutMs: number;
  /** VERITEE_HOST_MAX_IN_FLIGHT: requests relayed to the enclave at once. Default 64. */
  readonly maxInFlight: number;
  /** VERITEE_HOST_MAX_QUEUE: requests waiting behind those; beyond it the host answers 429. Default 256. */
  readonly maxQueue: number;
}

/** The settings the host reads; VERITEE_CONFIG may set any of them. */
export const HOST_SETTINGS = [
  'VERITEE_HOST_LISTEN',
  'VERITEE_ENCLAVE_URL',
  'VERITEE_VERIFIER_URL',
  'VERITEE_RECEIPT_TOKEN',
  'VERITEE_HOST_MAX_BODY',
  'VERITEE_HOST_TIMEOUT_MS',
  'VERITEE_HOST_MAX_IN_FLIGHT',
  'VERITEE_HOST_MAX_QUEUE',
] as const;

/**
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): HostConfig {
  const { host, port } = tcpListen(
    env['VERITEE_HOST_LISTEN'] ?? '127.0.0.1:7000',
    'VERITEE_HOST_LISTEN',
  );
  const enclaveRaw = env['VERITEE_ENCLAVE_URL'] ?? 'http://127.0.0.1:7001';
  const enclave = enclaveRaw.startsWith('unix:')
    ? { url: 'http://enclave', socketPath: enclaveRaw.slice(5) }
    : { url: httpUrlSetting(enclaveRaw, 'VERITEE_ENCLAVE_URL') };
  if (enclave.socketPath === '')
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_ENCLAVE_URL needs a socket path after unix:');
  const verifierRaw = env['VERITEE_VERIFIER_URL'] ?? 'http://127.0.0.1:7003';
  return {
    host,
    port,
    enclave,
    receiptToken:
      env['VERITEE_RECEIPT_TOKEN'] === undefined || env['VERITEE_RECEIPT_TOKEN'] === ''
        ? undefined
        : env['VERITEE_RECEIPT_TOKEN'],
    verifierUrl:
      verifierRaw === 'none' ? undefined : httpUrlSetting(verifierRaw, 'VERITEE_VERIFIER_URL'),
    maxBodyBytes: integerSetting(
      env,
      'VERITEE_HOST_MAX_BODY',
      1024 * 1024 + 2048,
      1024,
      64 * 1024 * 1024,
    ),
    timeoutMs: integerSetting(env, 'VERITEE_HOST_TIMEOUT_MS', 30_000, 100, 600_000),
    maxInFlight: integerSetting(env, 'VERITEE_HOST_MAX_IN_FLIGHT', 64, 1, 4096),
    maxQueue: integerSetting(env, 'VERITEE_HOST_MAX_QUEUE', 256, 0, 1_000_000),
  };
}
