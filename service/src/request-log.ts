/**
 * What every service records of each answered request: one allow-listed log
 * line, at a level by status, and the request metrics. The express skeleton
 * and the enclave's plain node:http server both call this.
 */
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';

/** The level of a request's log line: server failures are errors, refusals warnings. */
function levelOf(status: number): 'info' | 'warn' | 'error' {
  if (status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return 'info';
}

export interface AnsweredRequest {
  readonly method: string;
  /** A fixed route name, never the raw path. */
  readonly route: string;
  readonly status: number;
  readonly requestId: string;
  /** When the request arrived, from process.hrtime.bigint(). */
  readonly started: bigint;
  readonly code?: string | undefined;
  /** Host only: whether a receipt was attached. */
  readonly receipt?: string | undefined;
}

export function recordRequest(
  deps: { readonly logger: Logger; readonly metrics: ServiceMetrics },
  answered: AnsweredRequest,
): void {
  const seconds = Number(process.hrtime.bigint() - answered.started) / 1e9;
  deps.metrics.observeRequest(answered.route, answered.status, seconds);
  deps.logger[levelOf(answered.status)]('request', {
    method: answered.method,
    route: answered.route,
    status: answered.status,
    durationMs: Math.round(seconds * 1e6) / 1e3,
    requestId: answered.requestId,
    ...(answered.code === undefined ? {} : { code: answered.code }),
    ...(answered.receipt === undefined ? {} : { receipt: answered.receipt }),
  });
}
