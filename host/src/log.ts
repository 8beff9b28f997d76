/**
 * The host's structured log with an allow-list of fields: it relays bodies it
 * cannot read, and none of them, nor any header, can reach a log line.
 */
const FIELDS = ['method', 'route', 'status', 'durationMs', 'requestId', 'code', 'receipt'] as const;
export type LogFields = Partial<Record<(typeof FIELDS)[number], string | number>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(write: (line: string) => void, clock = () => new Date()): Logger {
  const line = (level: 'info' | 'error', message: string, fields: LogFields = {}) => {
    const entry: Record<string, string | number> = {
      time: clock().toISOString(),
      level,
      msg: message,
    };
    for (const name of FIELDS) {
      const value = fields[name];
      if (value !== undefined) entry[name] = value;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    info: (message, fields) => line('info', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}
