/**
 * Service settings from a JSON config file merged under the environment: the
 * file holds the same `VERITEE_*` names as the environment, and a variable set
 * in the environment wins. Pure: the caller reads the file.
 */
import { ConfigError } from '../errors.js';

/** The name of the variable that points at the config file. */
export const CONFIG_FILE_VARIABLE = 'VERITEE_CONFIG';

/**
 * @param file the parsed JSON of the config file, or undefined when there is none
 * @throws ConfigError CONFIG_INVALID naming the bad setting
 */
export function mergeSettings(
  file: unknown,
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
): Record<string, string | undefined> {
  if (file === undefined) return { ...env };
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    throw new ConfigError('CONFIG_INVALID', `${CONFIG_FILE_VARIABLE} must hold a JSON object`);
  const merged: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(file)) {
    if (!known.includes(name))
      throw new ConfigError(
        'CONFIG_INVALID',
        `${CONFIG_FILE_VARIABLE} sets ${name.slice(0, 64)}, which this service does not know`,
      );
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new ConfigError(
        'CONFIG_INVALID',
        `${CONFIG_FILE_VARIABLE} sets ${name} to something other than a string or number`,
      );
    merged[name] = String(value);
  }
  return {
    ...merged,
    ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
  };
}

/**
 * An integer setting within bounds, or `fallback` when unset or empty.
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function integerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError('CONFIG_INVALID', `${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * A `0`/`1` setting; `false` when unset.
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function flagSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): boolean {
  const raw = env[name] ?? '0';
  if (raw !== '0' && raw !== '1') throw new ConfigError('CONFIG_INVALID', `${name} must be 0 or 1`);
  return raw === '1';
}

/** The comma-separated items of a setting, trimmed, empty ones dropped; none when unset. */
export function listSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * The environment with the config file named by VERITEE_CONFIG merged under
 * it. The caller injects how to read a file, so this module stays free of I/O.
 * @throws ConfigError CONFIG_INVALID naming VERITEE_CONFIG or the bad setting
 */
export function loadSettings(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
  read: (path: string) => string,
): Record<string, string | undefined> {
  const path = env[CONFIG_FILE_VARIABLE];
  if (path === undefined || path === '') return { ...env };
  let file: unknown;
  try {
    file = JSON.parse(read(path));
  } catch {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${CONFIG_FILE_VARIABLE} must name a readable JSON file`,
    );
  }
  return mergeSettings(file, env, known);
}

/**
 * An http(s) URL setting, reduced to its origin (services add their own paths).
 * @throws ConfigError CONFIG_INVALID naming the setting
 */
export function httpUrlSetting(raw: string, name: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('CONFIG_INVALID', `${name} must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('CONFIG_INVALID', `${name} must be an http(s) URL`);
  return url.origin;
}
