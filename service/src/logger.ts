/**
 * Structured logs (pino, one JSON object a line) with an allow-list kept as
 * pino's log formatter: only these fields are ever written, so a prompt, key,
 * token or body cannot reach a log by accident. Every line names its service
 * and level.
 */
import { pino } from 'pino';

/** The only fields a log line may carry besides time, level, service and msg. */
export const LOG_FIELDS = [
  'method',
  'route',
  'status',
  'durationMs',
  'requestId',
  'code',
  'tee',
  'listen',
  'modelHash',
  'batchSize',
  'receipt',
  'outcome',
  'index',
  'size',
] as const;

export type LogFields = Partial<Record<(typeof LOG_FIELDS)[number], string | number | boolean>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type ServiceName = 'enclave' | 'host' | 'verifier';

function allowed(object: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of LOG_FIELDS) {
    const value = object[name];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      kept[name] = value;
  }
  return kept;
}

/**
 * A logger writing lines to `write` (default stdout).
 * @param options.level least level written; default info
 */
export function createLogger(options: {
  readonly service: ServiceName;
  readonly write?: (line: string) => void;
  readonly level?: 'info' | 'warn' | 'error';
}): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const log = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: allowed,
      },
    },
    { write },
  );
  return {
    info: (message, fields = {}) => log.info(fields, message),
    warn: (message, fields = {}) => log.warn(fields, message),
    error: (message, fields = {}) => log.error(fields, message),
  };
}

/** A logger that writes nothing, for embedding and tests that do not read logs. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
