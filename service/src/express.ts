/**
 * The skeleton as express middleware, for the host and the verifier: request
 * ids, no caching, one allow-listed log line and request metrics per answer,
 * `/livez` `/healthz` `/readyz` `/metrics`, and one problem+json error handler.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { RequestError } from '@veritee/attestations';
import type { Logger, ServiceName } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import { PROBLEM_CONTENT_TYPE, problemBody, problemOf, type Problem } from './problem.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import { recordRequest } from './request-log.js';

export interface Readiness {
  readonly ready: boolean;
  /** Public facts about each dependency (booleans, sizes), shown in the answer. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface SkeletonDeps {
  readonly service: ServiceName;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Whether the service can do its work now (its stores and upstreams answer). */
  readonly readiness: () => Promise<Readiness>;
  /** The largest body any route reads, for the 413 message. */
  readonly maxBodyBytes: number;
  /** The service's OpenAPI 3.1 description, served at GET /openapi.json. */
  readonly openapi?: Record<string, unknown> | undefined;
}

/** The request id of a request the skeleton is handling. */
export function requestIdOf(response: Response): string {
  return String(response.locals['requestId']);
}

/** Names the route for logs and metrics (a fixed string, never the raw path). */
export const route =
  (name: string) => (_request: Request, response: Response, next: NextFunction) => {
    response.locals['route'] = name;
    next();
  };

/** Every route an app registers, as `METHOD path` (`:id` kept; a RegExp route as its source). */
export function registeredRoutes(app: Express): string[] {
  const stack = (
    app as unknown as {
      router: {
        stack: Array<{ route?: { path: string | RegExp; methods: Record<string, boolean> } }>;
      };
    }
  ).router.stack;
  return stack.flatMap(({ route: registered }) =>
    registered === undefined
      ? []
      : Object.keys(registered.methods).map(
          (method) =>
            `${method.toUpperCase()} ${registered.path instanceof RegExp ? registered.path.source : registered.path}`,
        ),
  );
}

/** An express app with the skeleton's first middleware and its health and metrics routes. */
export function createServiceApp(deps: SkeletonDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((request: Request, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    response.locals['requestId'] = requestId;
    response.setHeader(REQUEST_ID_HEADER, requestId);
    response.setHeader('cache-control', 'no-store');
    response.on('finish', () =>
      recordRequest(deps, {
        method: request.method,
        route: String(response.locals['route'] ?? 'unmatched'),
        status: response.statusCode,
        requestId,
        started,
        code: response.locals['code'] as string | undefined,
        receipt: response.locals['receipt'] as string | undefined,
      }),
    );
    next();
  });
  const live = (_request: Request, response: Response) => void response.json({ status: 'ok' });
  app.get('/livez', route('/livez'), live);
  app.get('/healthz', route('/healthz'), live);
  app.get('/readyz', route('/readyz'), async (_request: Request, response: Response) => {
    const { ready, details } = await deps.readiness();
    response
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', ...(details ?? {}) });
  });
  app.get('/metrics', route('/metrics'), async (_request: Request, response: Response) => {
    response.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const { openapi } = deps;
  if (openapi !== undefined)
    app.get('/openapi.json', route('/openapi.json'), (_request: Request, response: Response) => {
      response.json(openapi);
    });
  return app;
}

function bodyParserProblem(error: unknown, maxBodyBytes: number): Problem | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large')
    return {
      status: 413,
      code: 'REQUEST_TOO_LARGE',
      detail: `body is larger than ${maxBodyBytes} bytes`,
    };
  if (typeof type === 'string')
    return { status: 400, code: 'REQUEST_FIELD_INVALID', detail: 'the body could not be read' };
  return undefined;
}

/** Ends the app: 404 for any other route, then every error as problem+json. */
export function finishServiceApp(app: Express, deps: SkeletonDeps): void {
  app.use(route('unmatched'), () => {
    throw new RequestError(404, 'REQUEST_NOT_FOUND', 'no such route');
  });
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const problem = bodyParserProblem(error, deps.maxBodyBytes) ?? problemOf(error, deps.service);
    response.locals['code'] = problem.code;
    // A failure of ours is logged with what happened; typed errors' messages carry no secrets.
    if (problem.status >= 500)
      deps.logger.error(
        problem.code === 'INTERNAL_ERROR' ? 'request failed' : `request failed: ${problem.detail}`,
        { code: problem.code, requestId: requestIdOf(response) },
      );
    if (problem.retryAfter !== undefined)
      response.setHeader('retry-after', String(problem.retryAfter));
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).json(problemBody(problem));
  });
}
