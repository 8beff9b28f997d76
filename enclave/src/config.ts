/**
 * Enclave configuration from environment variables, validated at start;
 * every error names the variable to fix.
 */
import { limitSettings, parseLimits, parseListen, type Listen } from '@veritee/service';
import { ConfigError } from '@veritee/attestations';
import { httpUrlSetting, integerSetting } from '@veritee/attestations/config';
import { isSnpProduct, type SnpProduct } from '@veritee/attestations/snp';
import { BUNDLED_MODEL, GENERIC_MODELS } from './model/bundled.js';
import type { BatchingMode } from './service/attested-inference.js';

export type TeeChoice = 'sim' | 'sim-nitro' | 'snp' | 'nitro';

/**
 * How the data key of a sealed model (`veritee.sealed-model/v1`) reaches the
 * enclave: not at all (the model is plaintext), from AWS KMS with a Nitro
 * Recipient attestation, or from the verifier's key broker.
 */
export type ModelKeyRelease =
  | { readonly kind: 'none' }
  | { readonly kind: 'kms'; readonly endpoint: string | undefined }
  | { readonly kind: 'broker'; readonly url: string };

export interface EnclaveConfig {
  /** VERITEE_TEE: sim (simulated SEV-SNP, the default), sim-nitro, snp or nitro. */
  readonly tee: TeeChoice;
  /** VERITEE_SIM_PRODUCT: the simulated SNP product. Default Milan. */
  readonly simProduct: SnpProduct;
  /** VERITEE_ENCLAVE_LISTEN: `host:port` or `unix:/path`. Default 127.0.0.1:7001. */
  readonly listen: Listen;
  /**
   * VERITEE_MODEL, VERITEE_MODEL_CONFIG, VERITEE_MODEL_SHA256: default a
   * bundled model and its pinned hash, chosen by VERITEE_BUNDLED_MODEL:
   * guardrail (the default), ocr, embedding or decoder.
   */
  readonly model: { readonly path: string; readonly configPath: string; readonly sha256: string };
  /**
   * VERITEE_MODEL_KEY_RELEASE: none (default), kms or broker; with kms,
   * VERITEE_KMS_ENDPOINT (default: the SDK's endpoint for AWS_REGION); with
   * broker, VERITEE_KEY_BROKER_URL (the verifier).
   */
  readonly modelKeyRelease: ModelKeyRelease;
  /** VERITEE_BATCH (on|off), VERITEE_BATCH_WINDOW_MS (default 2), VERITEE_BATCH_MAX (default 32). */
  readonly batching: BatchingMode;
  /** VERITEE_EVIDENCE_REFRESH_S: how often standing evidence is renewed. Default 300. */
  readonly evidenceRefreshSeconds: number;
  /** VERITEE_CONFIGFS_TSM: the configfs-tsm report directory. Default /sys/kernel/config/tsm/report. */
  readonly configfsTsm: string;
  /** VERITEE_SEV_GUEST: the SEV guest device, used when configfs-tsm is absent. Default /dev/sev-guest. */
  readonly sevGuestDevice: string;
  /** VERITEE_NSM: the Nitro Secure Module device. Default /dev/nsm. */
  readonly nsmDevice: string;
  /** VERITEE_MODEL_THREADS: onnxruntime intra-op threads. Default 1. */
  readonly modelThreads: number;
  /** VERITEE_MAX_REQUEST_BYTES: largest sealed request. Default 1 MiB + 1 KiB. */
  readonly maxRequestBytes: number;
  /**
   * VERITEE_ENCLAVE_MAX_IN_FLIGHT (default 64) inferences at once and
   * _MAX_QUEUE (256) waiting, past which 429 ENCLAVE_BUSY; _REQUEST_TIMEOUT_MS
   * (60 000) to receive a request; _MAX_CONNECTIONS (1024).
   */
  readonly limits: ReturnType<typeof parseLimits>;
}

const BUNDLED_NAMES = ['guardrail', ...Object.keys(GENERIC_MODELS)];

/** A bundled model's files and pin, by name. */
function bundledModel(name: string): EnclaveConfig['model'] {
  const model =
    name === 'guardrail'
      ? BUNDLED_MODEL
      : Object.hasOwn(GENERIC_MODELS, name)
        ? GENERIC_MODELS[name as keyof typeof GENERIC_MODELS]
        : undefined;
  if (model === undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      `VERITEE_BUNDLED_MODEL must be one of ${BUNDLED_NAMES.join(', ')}`,
    );
  return { path: model.path, configPath: model.configPath, sha256: model.sha256 };
}

/** The settings this service reads; VERITEE_CONFIG may set any of them. */
export const ENCLAVE_SETTINGS = [
  'VERITEE_TEE',
  'VERITEE_SIM_PRODUCT',
  'VERITEE_ENCLAVE_LISTEN',
  'VERITEE_MODEL',
  'VERITEE_BUNDLED_MODEL',
  'VERITEE_MODEL_CONFIG',
  'VERITEE_MODEL_SHA256',
  'VERITEE_MODEL_KEY_RELEASE',
  'VERITEE_KMS_ENDPOINT',
  'VERITEE_KEY_BROKER_URL',
  'VERITEE_BATCH',
  'VERITEE_BATCH_WINDOW_MS',
  'VERITEE_BATCH_MAX',
  'VERITEE_EVIDENCE_REFRESH_S',
  'VERITEE_CONFIGFS_TSM',
  'VERITEE_SEV_GUEST',
  'VERITEE_NSM',
  'VERITEE_MODEL_THREADS',
  'VERITEE_MAX_REQUEST_BYTES',
  ...limitSettings('ENCLAVE'),
] as const;

function parseModelKeyRelease(
  env: Readonly<Record<string, string | undefined>>,
  tee: TeeChoice,
): ModelKeyRelease {
  const kind = env['VERITEE_MODEL_KEY_RELEASE'] ?? 'none';
  if (kind !== 'none' && kind !== 'kms' && kind !== 'broker')
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_MODEL_KEY_RELEASE must be none, kms or broker',
    );
  if (kind === 'none') return { kind };
  if (env['VERITEE_MODEL'] === undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      `VERITEE_MODEL_KEY_RELEASE=${kind} needs VERITEE_MODEL: the sealed model to open`,
    );
  if (kind === 'kms') {
    // KMS admits only Nitro attestation documents as a Recipient.
    if (tee !== 'nitro' && tee !== 'sim-nitro')
      throw new ConfigError(
        'CONFIG_INVALID',
        'VERITEE_MODEL_KEY_RELEASE=kms needs a Nitro enclave (VERITEE_TEE nitro or sim-nitro); SEV-SNP uses broker',
      );
    const endpoint = env['VERITEE_KMS_ENDPOINT'];
    return {
      kind,
      endpoint:
        endpoint === undefined ? undefined : httpUrlSetting(endpoint, 'VERITEE_KMS_ENDPOINT'),
    };
  }
  const url = env['VERITEE_KEY_BROKER_URL'];
  if (url === undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_MODEL_KEY_RELEASE=broker needs VERITEE_KEY_BROKER_URL: the verifier that releases keys',
    );
  return { kind, url: httpUrlSetting(url, 'VERITEE_KEY_BROKER_URL') };
}

/** @throws ConfigError CONFIG_INVALID naming the variable */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): EnclaveConfig {
  const tee = env['VERITEE_TEE'] ?? 'sim';
  if (tee !== 'sim' && tee !== 'sim-nitro' && tee !== 'snp' && tee !== 'nitro')
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_TEE must be sim, sim-nitro, snp or nitro');
  const simProduct = env['VERITEE_SIM_PRODUCT'] ?? 'Milan';
  if (!isSnpProduct(simProduct))
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_SIM_PRODUCT must be Milan, Genoa or Turin');
  const modelPath = env['VERITEE_MODEL'];
  if (
    modelPath !== undefined &&
    (env['VERITEE_MODEL_SHA256'] === undefined || env['VERITEE_MODEL_CONFIG'] === undefined)
  ) {
    throw new ConfigError(
      'CONFIG_INVALID',
      'VERITEE_MODEL needs VERITEE_MODEL_CONFIG and VERITEE_MODEL_SHA256: an unpinned model is refused',
    );
  }
  const modelKeyRelease = parseModelKeyRelease(env, tee);
  const batch = env['VERITEE_BATCH'] ?? 'on';
  if (batch !== 'on' && batch !== 'off')
    throw new ConfigError('CONFIG_INVALID', 'VERITEE_BATCH must be on or off');
  return {
    tee,
    simProduct,
    listen: parseListen(
      env['VERITEE_ENCLAVE_LISTEN'] ?? '127.0.0.1:7001',
      'VERITEE_ENCLAVE_LISTEN',
      true,
    ),
    model:
      modelPath === undefined
        ? bundledModel(env['VERITEE_BUNDLED_MODEL'] ?? 'guardrail')
        : {
            path: modelPath,
            configPath: env['VERITEE_MODEL_CONFIG'] ?? '',
            sha256: env['VERITEE_MODEL_SHA256'] ?? '',
          },
    modelKeyRelease,
    batching:
      batch === 'off'
        ? { kind: 'single' }
        : {
            kind: 'batch',
            windowMs: integerSetting(env, 'VERITEE_BATCH_WINDOW_MS', 2, 0, 1000),
            maxSize: integerSetting(env, 'VERITEE_BATCH_MAX', 32, 1, 4096),
          },
    evidenceRefreshSeconds: integerSetting(env, 'VERITEE_EVIDENCE_REFRESH_S', 300, 1, 86_400),
    configfsTsm: env['VERITEE_CONFIGFS_TSM'] ?? '/sys/kernel/config/tsm/report',
    sevGuestDevice: env['VERITEE_SEV_GUEST'] ?? '/dev/sev-guest',
    nsmDevice: env['VERITEE_NSM'] ?? '/dev/nsm',
    modelThreads: integerSetting(env, 'VERITEE_MODEL_THREADS', 1, 1, 64),
    maxRequestBytes: integerSetting(
      env,
      'VERITEE_MAX_REQUEST_BYTES',
      1024 * 1024 + 1024,
      1024,
      64 * 1024 * 1024,
    ),
    limits: parseLimits(env, 'ENCLAVE', {
      maxInFlight: 64,
      maxQueue: 256,
      requestTimeoutMs: 60_000,
    }),
  };
}
