/**
 * The skeleton for routes served on plain node:http, without express: the
 * enclave's whole API and the verifier's hot read routes. The same request
 * id, no-store default, log line, metrics and problem+json as the express
 * skeleton gives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger, ServiceName } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import { PROBLEM_CONTENT_TYPE, problemBody, problemOf } from './problem.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import { recordRequest } from './request-log.js';

/** Writes a whole answer with its length; `cache-control` defaults to no-store. */
export function sendPlain(
  response: ServerResponse,
  status: number,
  body: string | Uint8Array,
  type = 'application/json',
  cacheControl = 'no-store',
): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    'cache-control': cacheControl,
  });
  response.end(body);
}

/**
 * Answers one request with `handle`, which writes the response or throws; a
 * throw becomes problem+json (with Retry-After when the refusal can pass).
 * `route` is a fixed name for logs and metrics, never the raw path.
 */
export function servePlain(
  deps: {
    readonly service: ServiceName;
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
  },
  request: IncomingMessage,
  response: ServerResponse,
  route: string,
  handle: () => Promise<void> | void,
): void {
  const started = process.hrtime.bigint();
  const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
  response.setHeader(REQUEST_ID_HEADER, requestId);
  const finish = (status: number, code?: string) =>
    recordRequest(deps, {
      method: request.method ?? '',
      route,
      status,
      requestId,
      started,
      code,
    });
  Promise.resolve()
    .then(handle)
    .then(
      () => finish(response.statusCode),
      (error: unknown) => {
        const problem = problemOf(error, deps.service);
        // A failure of ours is logged with what happened; typed errors' messages carry no secrets.
        if (problem.status >= 500)
          deps.logger.error(
            problem.code === 'INTERNAL_ERROR'
              ? 'request failed'
              : `request failed: ${problem.detail}`,
            { code: problem.code, requestId },
          );
        if (!response.headersSent) {
          if (problem.retryAfter !== undefined)
            response.setHeader('retry-after', String(problem.retryAfter));
          sendPlain(
            response,
            problem.status,
            JSON.stringify(problemBody(problem)),
            PROBLEM_CONTENT_TYPE,
          );
        } else response.destroy();
        finish(problem.status, problem.code);
      },
    );
}
