/**
 * Settings every service reads the same way: where it listens and where its
 * state lives.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@veritee/attestations';
import { integerSetting } from '@veritee/attestations/config';

/** A TCP address or, where a service allows it, a Unix socket path. */
export type Listen =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/**
 * Parses `host:port` (and `unix:/path` when `allowUnix`) from the setting `name`.
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function parseListen(raw: string, name: string, allowUnix = false): Listen {
  if (allowUnix && raw.startsWith('unix:')) {
    if (raw.length <= 5)
      throw new ConfigError('CONFIG_INVALID', `${name} needs a socket path after unix:`);
    return { kind: 'unix', path: raw.slice(5) };
  }
  const match = /^([^:]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (match === null || port > 65535)
    throw new ConfigError(
      'CONFIG_INVALID',
      `${name} must be host:port${allowUnix ? ' or unix:/path' : ''}`,
    );
  return { kind: 'tcp', host: match[1] ?? '127.0.0.1', port };
}

/**
 * Parses `host:port` only, for services that listen on TCP.
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function tcpListen(raw: string, name: string): { host: string; port: number } {
  const listen = parseListen(raw, name);
  if (listen.kind !== 'tcp') throw new ConfigError('CONFIG_INVALID', `${name} must be host:port`);
  return listen;
}

/** The state directory: VERITEE_HOME, or ~/.veritee when unset. */
export function veriteeHome(env: Readonly<Record<string, string | undefined>>): string {
  return env['VERITEE_HOME'] ?? join(homedir(), '.veritee');
}

/**
 * A service's admission and server limits from `VERITEE_<PREFIX>_MAX_IN_FLIGHT`,
 * `_MAX_QUEUE`, `_REQUEST_TIMEOUT_MS` and `_MAX_CONNECTIONS`, each with its default.
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function parseLimits(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  defaults: { maxInFlight: number; maxQueue: number; requestTimeoutMs: number },
): {
  maxInFlight: number;
  maxQueue: number;
  requestTimeoutMs: number;
  maxConnections: number;
} {
  return {
    maxInFlight: integerSetting(
      env,
      `VERITEE_${prefix}_MAX_IN_FLIGHT`,
      defaults.maxInFlight,
      1,
      100_000,
    ),
    maxQueue: integerSetting(env, `VERITEE_${prefix}_MAX_QUEUE`, defaults.maxQueue, 0, 1_000_000),
    requestTimeoutMs: integerSetting(
      env,
      `VERITEE_${prefix}_REQUEST_TIMEOUT_MS`,
      defaults.requestTimeoutMs,
      100,
      3_600_000,
    ),
    maxConnections: integerSetting(env, `VERITEE_${prefix}_MAX_CONNECTIONS`, 1_024, 1, 1_000_000),
  };
}

/** The names parseLimits reads, for a service's settings list. */
export const limitSettings = (prefix: string) =>
  ['MAX_IN_FLIGHT', 'MAX_QUEUE', 'REQUEST_TIMEOUT_MS', 'MAX_CONNECTIONS'].map(
    (name) => `VERITEE_${prefix}_${name}`,
  );
