/**
 * Structured logs with an allow-list: only these fields are ever written, so a
 * prompt, key or body cannot reach a log by accident.
 */
const ALLOWED = [
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
] as const;
export type LogFields = Partial<Record<(typeof ALLOWED)[number], string | number | boolean>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(write: (line: string) => void): Logger {
  const emit = (level: string, message: string, fields: LogFields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
    for (const key of ALLOWED) if (fields[key] !== undefined) entry[key] = fields[key];
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    info: (message, fields) => emit('info', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}
