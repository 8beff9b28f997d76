/**
 * What a client demands of an enclave before it sends a prompt. Every field
 * documents its default; an unset permission is the safe choice.
 */
import { NOTE_SIGNATURE_COSIGNATURE_V1, parseNoteVerifier } from '@veritee/attestations/tlog';
import type { JSONWebKeySet } from 'jose';
import { ConfigError } from '@veritee/attestations';
import { type TrustStore } from '@veritee/attestations/evidence';
import { type Policy } from '@veritee/attestations/policy';

export interface ClientPolicy {
  /** Model hashes (hex, `veritee.model/v1`) the client will send prompts to. Required, non-empty. */
  readonly models: readonly string[];
  /** The evidence policy (measurements, TCB, debug...). Default: the attestations default policy (debug refused). */
  readonly evidence?: Policy | undefined;
  /** Accept simulated (dev-root) evidence; `trust` must then hold the dev roots. Default false. */
  readonly allowSimulated?: boolean | undefined;
  /** Oldest standing evidence accepted, in seconds. Default 600. */
  readonly maxEvidenceAgeSeconds?: number | undefined;
  /**
   * Which code may receive prompts. `approved` (the default): a measurement
   * (and model, where tied) the verifier's log approves, each approval a signed
   * policy change proven in the log; needs `verifier`. A list: those
   * measurements (hex). `any`: no check (the result says so).
   */
  readonly measurements?: 'approved' | 'any' | readonly string[] | undefined;
}

export interface ClientOptions {
  /** The host's base URL, e.g. http://127.0.0.1:7000. */
  readonly host: string;
  readonly policy: ClientPolicy;
  /**
   * The verifier whose receipts the client checks (its JWKS, checkpoint and
   * proofs are fetched from it directly, never through the host). When set, an
   * answer without a valid receipt is refused. Default: receipts are returned
   * unchecked.
   */
  readonly verifier?: string | undefined;
  /**
   * The verifier's keys (its JWKS), pinned by the caller. Default: fetched from
   * `verifier` on first use and pinned for this client's life. Receipts must
   * name `verifier` as their issuer and be signed by one of these keys while it
   * was current.
   */
  readonly verifierKeys?: JSONWebKeySet | undefined;
  /**
   * The verifier's log key (C2SP note verifier key, as its `/v1/log` names
   * it), pinned by the caller. Default: fetched from `verifier` with its keys.
   * With it, receipts are checked against the log's C2SP checkpoints.
   */
  readonly verifierLogKey?: string | undefined;
  /**
   * Witnesses whose cosignatures the log's checkpoint must carry before a
   * receipt counts (C2SP tlog-witness): their cosignature keys, and how many
   * must have cosigned (default all). Needs the verifier's log key.
   */
  readonly witnesses?: { readonly keys: readonly string[]; readonly required?: number } | undefined;
  /** Trust roots. Default: the real AMD and AWS roots only. */
  readonly trust?: TrustStore | undefined;
  /** Per-request timeout in milliseconds. Default 30 000. */
  readonly timeoutMs?: number | undefined;
  /** Default `() => new Date()`. */
  readonly clock?: (() => Date) | undefined;
  /** Default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
}

export const DEFAULT_MAX_EVIDENCE_AGE_SECONDS = 600;
export const DEFAULT_TIMEOUT_MS = 30_000;

const HEX32 = /^[0-9a-f]{64}$/;

/** @throws ConfigError CONFIG_INVALID naming the option */
export function checkOptions(options: ClientOptions): void {
  try {
    new URL(options.host);
  } catch {
    throw new ConfigError('CONFIG_INVALID', 'host must be an absolute URL');
  }
  if (options.verifier !== undefined) {
    try {
      new URL(options.verifier);
    } catch {
      throw new ConfigError('CONFIG_INVALID', 'verifier must be an absolute URL');
    }
  }
  if (options.witnesses !== undefined) {
    const { keys, required = keys.length } = options.witnesses;
    if (options.verifier === undefined)
      throw new ConfigError('CONFIG_INVALID', "witnesses cosign a verifier's log: set verifier");
    if (!Number.isSafeInteger(required) || required < 1 || required > keys.length)
      throw new ConfigError(
        'CONFIG_INVALID',
        'witnesses.required counts from 1 to the number of keys',
      );
    for (const key of keys) {
      if (parseNoteVerifier(key).type !== NOTE_SIGNATURE_COSIGNATURE_V1)
        throw new ConfigError('CONFIG_INVALID', 'witnesses.keys are cosignature keys (type 0x04)');
    }
  }
  const { models, maxEvidenceAgeSeconds, measurements } = options.policy;
  if ((measurements ?? 'approved') === 'approved' && options.verifier === undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      "policy.measurements 'approved' reads approvals from the verifier: set verifier, list the measurements, or say 'any'",
    );
  if (
    Array.isArray(measurements) &&
    !measurements.every((hash: unknown) => typeof hash === 'string' && /^[0-9a-f]{96}$/.test(hash))
  )
    throw new ConfigError(
      'CONFIG_INVALID',
      'policy.measurements must list 48-byte lower-case hex values',
    );
  if (
    !Array.isArray(models) ||
    models.length === 0 ||
    !models.every((hash: unknown) => typeof hash === 'string' && HEX32.test(hash))
  )
    throw new ConfigError(
      'CONFIG_INVALID',
      'policy.models must list at least one model hash as 64 lower-case hex digits',
    );
  if (
    maxEvidenceAgeSeconds !== undefined &&
    (!Number.isFinite(maxEvidenceAgeSeconds) || maxEvidenceAgeSeconds <= 0)
  )
    throw new ConfigError('CONFIG_INVALID', 'policy.maxEvidenceAgeSeconds must be positive');
}
