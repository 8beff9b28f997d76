/**
 * Verifier configuration from environment variables, validated at start;
 * every error names the variable to fix.
 */
import { createHash } from 'node:crypto';
import { KDS_BASE_URL } from '@veritee/kds';
import { limitSettings, parseLimits, tcpListen, veriteeHome } from '@veritee/service';
import { readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@veritee/attestations';
import { flagSetting, integerSetting, listSetting } from '@veritee/attestations/config';
import { parsePolicy, type Policy } from '@veritee/attestations/policy';

export interface VerifierConfig {
  /** VERITEE_VERIFIER_LISTEN: host:port. Default 127.0.0.1:7003. */
  readonly host: string;
  readonly port: number;
  /** VERITEE_VERIFIER_DATA: where the SQLite log and signing keys live. Default ~/.veritee/verifier. */
  readonly dataDir: string;
  /**
   * VERITEE_DATABASE_URL: a postgresql:// URL to keep the log in PostgreSQL, shared by
   * every replica pointed at it. Default: SQLite at `<dataDir>/log.db`, for one verifier.
   */
  readonly database:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string };
  /** VERITEE_VERIFIER_WORKERS: appraisal worker threads. Default one per core. */
  readonly workers: number;
  /**
   * VERITEE_KMS_KEY_ID: sign with this AWS KMS key (ECC_NIST_P256) instead of a local key;
   * VERITEE_KMS_RETIRED_KEYS (`keyId@<ISO time retired>`, comma-separated) stay in the JWKS with
   * that time as their `exp`; VERITEE_KMS_ENDPOINT
   * overrides the endpoint (a local KMS). Region and credentials: the AWS SDK's usual chain.
   */
  readonly kms?: {
    readonly keyId: string;
    readonly retiredKeys: ReadonlyArray<{ readonly keyId: string; readonly retiredAt: Date }>;
    readonly endpoint?: string | undefined;
  };
  /** VERITEE_ADMIN_TOKEN: the admin API's bearer token (at least 32 characters). Unset: the admin API is off. */
  readonly adminToken?: string;
  /** VERITEE_POLICY_REFRESH_S: how often replicas re-read policy changes from the log. Default 5. */
  readonly policyRefreshSeconds: number;
  /** VERITEE_KMS_ENDPOINT: another KMS endpoint (a local one) for signing and the key broker. */
  readonly kmsEndpoint?: string;
  /** VERITEE_KEY_BROKER: 1 to release KMS-wrapped data keys to SEV-SNP evidence that passes policy. Default 0. */
  readonly keyBroker: boolean;
  /** VERITEE_ISSUER: the `iss` of receipts. Default: the address the verifier listens on. */
  readonly issuer?: string;
  /** VERITEE_POLICY: a policy JSON file. Default the built-in policy. */
  readonly policy: { readonly id: string; readonly version: number; readonly policy: Policy };
  /** VERITEE_ALLOW_SIMULATED: 1 to accept simulated evidence (receipts then say so). Default off. */
  readonly allowSimulated: boolean;
  /** The simulator's dev PKI whose roots are then trusted: $VERITEE_HOME/dev-pki.json (default ~/.veritee). */
  readonly devPkiPath: string;
  /**
   * VERITEE_KDS_URL: AMD KDS (default https://kdsintf.amd.com), or `off`: no
   * collateral is fetched or served. VERITEE_KDS_OFFLINE=1: answer from the
   * cache only. The cache is the log's PostgreSQL database, or <data>/kds.
   * VERITEE_KDS_VCEKS_PER_MINUTE: new VCEKs asked of KDS a minute, at most (default 60).
   */
  readonly kds:
    | { readonly url: string; readonly offline: boolean; readonly vceksPerMinute: number }
    | undefined;
  /**
   * Who may have receipts issued: hosts holding a token whose SHA-256 (hex) is
   * in VERITEE_RECEIPT_TOKEN_HASHES (comma-separated; several at once, so a
   * token rotates without downtime) or that is in VERITEE_RECEIPT_TOKENS (the
   * tokens themselves, for a secret store that injects them; hashed at start
   * and never logged), or anyone with VERITEE_RECEIPTS_OPEN=1.
   * Neither: no receipts are issued. Reads and /v1/verify stay public.
   */
  readonly receiptTokens: readonly string[] | 'open';
  /**
   * VERITEE_VERIFIER_MAX_IN_FLIGHT (default 64) verifications, receipts and key
   * releases at once and _MAX_QUEUE (1024) waiting, past which 429
   * VERIFIER_BUSY; _REQUEST_TIMEOUT_MS (30 000); _MAX_CONNECTIONS (1024).
   */
  readonly limits: ReturnType<typeof parseLimits>;
  /**
   * VERITEE_LOG_ORIGIN: the log's origin line, which names its note key; fixed
   * when the key is made. Default (for a new log) `<issuer host>/log`.
   */
  readonly logOrigin: string | undefined;
  /**
   * VERITEE_LOG_NOTE_KEY: the log's note signer key (`PRIVATE+KEY+...`, made by
   * `veritee operator log-key`), from a secret store, for replicas that share a
   * PostgreSQL log. Unset: the key in the data directory, made on first start.
   */
  readonly logNoteKey: string | undefined;
  /**
   * VERITEE_WITNESSES: `<url> <vkey>` pairs, comma-separated: the witnesses
   * asked to cosign each new checkpoint (C2SP tlog-witness). Default none.
   */
  readonly witnesses: ReadonlyArray<{ readonly url: string; readonly vkey: string }>;
  /** VERITEE_WITNESS_INTERVAL_MS: how often new checkpoints go to the witnesses. Default 1000. */
  readonly witnessIntervalMs: number;
  /** VERITEE_LOG_CACHE_MB: memory for the log's subtree hashes behind roots and proofs. Default 64. */
  readonly logCacheMb: number;
}

/** The settings this service reads; VERITEE_CONFIG may set any of them. */
export const VERIFIER_SETTINGS = [
  'VERITEE_VERIFIER_LISTEN',
  'VERITEE_VERIFIER_DATA',
  'VERITEE_DATABASE_URL',
  'VERITEE_VERIFIER_WORKERS',
  'VERITEE_KMS_KEY_ID',
  'VERITEE_KMS_RETIRED_KEYS',
  'VERITEE_KMS_ENDPOINT',
  'VERITEE_ADMIN_TOKEN',
  'VERITEE_KEY_BROKER',
  'VERITEE_POLICY_REFRESH_S',
  'VERITEE_ISSUER',
  'VERITEE_KDS_URL',
  'VERITEE_KDS_OFFLINE',
  'VERITEE_RECEIPT_TOKEN_HASHES',
  'VERITEE_RECEIPT_TOKENS',
  'VERITEE_RECEIPTS_OPEN',
  'VERITEE_LOG_ORIGIN',
  'VERITEE_LOG_NOTE_KEY',
  'VERITEE_WITNESSES',
  'VERITEE_WITNESS_INTERVAL_MS',
  'VERITEE_LOG_CACHE_MB',
  ...limitSettings('VERIFIER'),
  'VERITEE_POLICY',
  'VERITEE_ALLOW_SIMULATED',
] as const;

/**
 * `keyId@2026-11-01T00:00:00Z,...`: each retired key with the time it stopped
 * signing, so it vouches for nothing dated later.
 * @throws ConfigError CONFIG_INVALID
 */
function parseRetiredKeys(
  env: Readonly<Record<string, string | undefined>>,
): Array<{ keyId: string; retiredAt: Date }> {
  return listSetting(env, 'VERITEE_KMS_RETIRED_KEYS').map((item) => {
    const at = item.lastIndexOf('@');
    const retiredAt = new Date(at < 0 ? NaN : item.slice(at + 1));
    if (at <= 0 || Number.isNaN(retiredAt.getTime()))
      throw new ConfigError(
        'CONFIG_INVALID',
        'VERITEE_KMS_RETIRED_KEYS must list keyId@<ISO time retired>, comma-separated',
      );
    return { keyId: item.slice(0, at), retiredAt };
  });
}

/** @throws ConfigError CONFIG_INVALID naming the variable, POLICY_INVALID naming the field */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): VerifierConfig {
  const { host, port } = tcpListen(
    env['VERITEE_VERIFIER_LISTEN'] ?? '127.0.0.1:7003',
    'VERITEE_VERIFIER_LISTEN',
  );
  const allowSimulated = flagSetting(env, 'VERITEE_ALLOW_SIMULATED');
  let policy: VerifierConfig['policy'] = { id: 'default', version: 1, policy: {} };
  const policyFile = env['VERITEE_POLICY'];
  if (policyFile !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(policyFile, 'utf8'));
    } catch {
      throw new ConfigError('CONFIG_INVALID', 'VERITEE_POLICY must name a readable JSON file');
    }
    const parsed = parsePolicy(json);
    policy = { id: parsed.id ?? 'default', version: parsed.version ?? 1, policy: parsed };
  }
  const dataDir = env['VERITEE_VERIFIER_DATA'] ?? join(homedir(), '.veritee', 'verifier');
  const databaseUrl = env['VERITEE_DATABASE_URL'];
  if (databaseUrl !== undefined && databaseUrl !== '' && !/^postgres(?:ql)?:\/\//.test(databaseUrl))
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_DATABASE_URL must be a postgresql:// URL');
  const kmsKeyId = env['VERITEE_KMS_KEY_ID'];
  const kmsEndpoint = env['VERITEE_KMS_ENDPOINT'];
  if (kmsEndpoint !== undefined && !/^https?:\/\//.test(kmsEndpoint))
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_KMS_ENDPOINT must be an http(s) URL');
  const adminToken = env['VERITEE_ADMIN_TOKEN'];
  if (adminToken !== undefined && adminToken !== '' && adminToken.length < 32)
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_ADMIN_TOKEN must be at least 32 characters');
  return {
    host,
    port,
    dataDir,
    keyBroker: flagSetting(env, 'VERITEE_KEY_BROKER'),
    ...(kmsEndpoint === undefined || kmsEndpoint === '' ? {} : { kmsEndpoint }),
    ...(adminToken === undefined || adminToken === '' ? {} : { adminToken }),
    policyRefreshSeconds: integerSetting(env, 'VERITEE_POLICY_REFRESH_S', 5, 1, 3600),
    ...(kmsKeyId === undefined || kmsKeyId === ''
      ? {}
      : {
          kms: {
            keyId: kmsKeyId,
            retiredKeys: parseRetiredKeys(env),
            endpoint: kmsEndpoint,
          },
        }),
    workers: integerSetting(env, 'VERITEE_VERIFIER_WORKERS', availableParallelism(), 1, 256),
    database:
      databaseUrl === undefined || databaseUrl === ''
        ? { kind: 'sqlite', path: join(dataDir, 'log.db') }
        : { kind: 'postgres', url: databaseUrl },
    ...(env['VERITEE_ISSUER'] === undefined ? {} : { issuer: env['VERITEE_ISSUER'] }),
    policy,
    allowSimulated,
    devPkiPath: join(veriteeHome(env), 'dev-pki.json'),
    kds: parseKds(env),
    receiptTokens: parseReceiptTokens(env),
    logOrigin: parseOrigin(env['VERITEE_LOG_ORIGIN']),
    logNoteKey: env['VERITEE_LOG_NOTE_KEY']?.trim() || undefined,
    witnesses: parseWitnesses(env),
    witnessIntervalMs: integerSetting(env, 'VERITEE_WITNESS_INTERVAL_MS', 1000, 100, 3_600_000),
    logCacheMb: integerSetting(env, 'VERITEE_LOG_CACHE_MB', 64, 1, 1_048_576),
    limits: parseLimits(env, 'VERIFIER', {
      maxInFlight: 64,
      maxQueue: 1024,
      requestTimeoutMs: 30_000,
    }),
  };
}

/** @throws ConfigError CONFIG_INVALID */
function parseReceiptTokens(
  env: Readonly<Record<string, string | undefined>>,
): VerifierConfig['receiptTokens'] {
  const open = flagSetting(env, 'VERITEE_RECEIPTS_OPEN');
  const listed = listSetting(env, 'VERITEE_RECEIPT_TOKEN_HASHES').map((hash) => hash.toLowerCase());
  if (listed.some((hash) => !/^[0-9a-f]{64}$/.test(hash)))
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_RECEIPT_TOKEN_HASHES must list SHA-256 digests (64 hex digits), comma-separated',
    );
  const tokens = listSetting(env, 'VERITEE_RECEIPT_TOKENS');
  // The message never quotes a token.
  if (tokens.some((token) => token.length < 16))
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_RECEIPT_TOKENS must list tokens of at least 16 characters, comma-separated',
    );
  const hashes = [
    ...listed,
    ...tokens.map((token) => createHash('sha256').update(token).digest('hex')),
  ];
  if (open && hashes.length > 0)
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_RECEIPTS_OPEN=1 and receipt tokens contradict each other',
    );
  return open ? 'open' : hashes;
}

/** @throws ConfigError CONFIG_INVALID */
function parseOrigin(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > 256 || !/^[^\s+]+$/.test(value))
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_LOG_ORIGIN must be a schema-less URL without spaces or "+" (e.g. verifier.example.com/log)',
    );
  return value;
}

/** @throws ConfigError CONFIG_INVALID */
function parseWitnesses(
  env: Readonly<Record<string, string | undefined>>,
): VerifierConfig['witnesses'] {
  return listSetting(env, 'VERITEE_WITNESSES').map((pair) => {
    const [url = '', vkey = '', ...rest] = pair.trim().split(/\s+/);
    if (rest.length > 0 || !/^https?:\/\/[^\s]+$/.test(url) || vkey === '')
      throw new ConfigError(
        'CONFIG_INVALID',
        'VERITEE_WITNESSES must list "<http(s) URL> <witness vkey>" pairs, comma-separated',
      );
    return { url, vkey };
  });
}

/** @throws ConfigError CONFIG_INVALID */
function parseKds(env: Readonly<Record<string, string | undefined>>): VerifierConfig['kds'] {
  const url = env['VERITEE_KDS_URL'] ?? KDS_BASE_URL;
  if (url === 'off') return undefined;
  // Transport is not trusted: every VCEK, chain and CRL is verified against the pinned AMD roots.
  if (!/^https?:\/\/[^/?#]+\/?$/.test(url))
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_KDS_URL must be an http(s) origin, or off');
  return {
    url,
    offline: flagSetting(env, 'VERITEE_KDS_OFFLINE'),
    vceksPerMinute: integerSetting(env, 'VERITEE_KDS_VCEKS_PER_MINUTE', 60, 1, 100_000),
  };
}
