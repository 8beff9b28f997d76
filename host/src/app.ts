/**
 * The host's public API (express): the enclave's attestation, sealed
 * inference, health, readiness and metrics. Bodies are opaque bytes with a
 * size limit; errors are RFC 9457 problem+json with a stable code.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { isVeriteeError, RequestError, UpstreamError } from '@veritee/attestations';
import { Busy } from './service/admission.js';
import type { Relay } from './service/relay.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface AppDeps {
  readonly relay: Relay;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
}

interface Problem {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly retryAfter?: number;
}

function problemOf(error: unknown, maxBodyBytes: number): Problem {
  const parser = error as { type?: string };
  if (parser.type === 'entity.too.large')
    return {
      status: 413,
      code: 'REQUEST_TOO_LARGE',
      detail: `body is larger than ${maxBodyBytes} bytes`,
    };
  if (parser.type !== undefined)
    return { status: 400, code: 'REQUEST_FIELD_INVALID', detail: 'the body could not be read' };
  if (error instanceof Busy)
    return {
      status: 429,
      code: error.code,
      detail: error.message,
      retryAfter: error.retryAfterSeconds,
    };
  if (error instanceof RequestError)
    return { status: error.status, code: error.code, detail: error.message };
  if (error instanceof UpstreamError)
    return {
      status: error.code === 'HOST_UPSTREAM_TIMEOUT' ? 504 : 502,
      code: error.code,
      detail: error.message,
    };
  if (isVeriteeError(error)) return { status: 502, code: error.code, detail: error.message };
  return { status: 500, code: 'INTERNAL_ERROR', detail: 'the host failed unexpectedly' };
}

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  // Every answer: a request id, no caching, and one allow-listed log line with its metrics.
  app.use((request: Request, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    response.locals['requestId'] = requestId;
    response.setHeader('x-request-id', requestId);
    response.setHeader('cache-control', 'no-store');
    response.on('finish', () => {
      const route = String(response.locals['route'] ?? 'unmatched');
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.observe(route, response.statusCode, seconds);
      const code = response.locals['code'] as string | undefined;
      deps.logger.info('request', {
        method: request.method,
        route,
        status: response.statusCode,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        requestId,
        ...(code === undefined ? {} : { code }),
        ...(response.locals['receipt'] === undefined
          ? {}
          : { receipt: String(response.locals['receipt']) }),
      });
    });
    next();
  });

  const route = (name: string) => (_request: Request, response: Response, next: NextFunction) => {
    response.locals['route'] = name;
    next();
  };

  app.get('/healthz', route('/healthz'), (_request, response) => {
    response.json({ status: 'ok' });
  });

  app.get('/readyz', route('/readyz'), async (_request: Request, response: Response) => {
    const ready = await deps.relay.readiness();
    const ok = ready.enclave && ready.verifier !== false;
    response.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', ...ready });
  });

  app.get('/metrics', route('/metrics'), async (_request: Request, response: Response) => {
    response.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get(
    '/v1/attestation',
    route('/v1/attestation'),
    async (_request: Request, response: Response) => {
      response.json(await deps.relay.attestation());
    },
  );

  app.post(
    '/v1/infer',
    route('/v1/infer'),
    (request: Request, _response: Response, next: NextFunction) => {
      if (!(request.headers['content-type'] ?? '').startsWith('application/octet-stream'))
        throw new RequestError(
          415,
          'REQUEST_MEDIA_TYPE_UNSUPPORTED',
          'send the sealed request as application/octet-stream',
        );
      next();
    },
    express.raw({ type: 'application/octet-stream', limit: deps.maxBodyBytes }),
    async (request: Request, response: Response) => {
      const body = request.body as unknown;
      if (!Buffer.isBuffer(body) || body.byteLength === 0)
        throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'the sealed request is empty');
      const answer = await deps.relay.infer(new Uint8Array(body));
      response.locals['receipt'] = answer['receipt'] === undefined ? 'none' : 'attached';
      response.json(answer);
    },
  );

  app.use(route('unmatched'), (_request: Request, _response: Response) => {
    throw new RequestError(404, 'REQUEST_NOT_FOUND', 'no such route');
  });

  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const problem = problemOf(error, deps.maxBodyBytes);
    response.locals['code'] = problem.code;
    if (problem.status >= 500 && problem.code === 'INTERNAL_ERROR')
      deps.logger.error('request failed', {
        code: problem.code,
        requestId: String(response.locals['requestId']),
      });
    if (problem.retryAfter !== undefined)
      response.setHeader('retry-after', String(problem.retryAfter));
    response.status(problem.status).type('application/problem+json').json({
      type: 'about:blank',
      title: problem.code,
      status: problem.status,
      code: problem.code,
      detail: problem.detail,
    });
  });
  return app;
}
