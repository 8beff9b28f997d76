/**
 * OpenAPI 3.1 descriptions of the services' HTTP APIs, built from one table
 * per service (verifier/src/openapi.ts, host/src/openapi.ts) and served at
 * GET /openapi.json. A test checks each against the routes the app registers,
 * so the description cannot drift from the code.
 */

export interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'path' | 'header';
  readonly description: string;
  readonly required?: boolean;
  readonly schema?: Record<string, unknown>;
}

export interface Operation {
  readonly summary: string;
  readonly description?: string;
  readonly parameters?: readonly Parameter[];
  /** The request body's media type and schema, when it has one. */
  readonly body?: { readonly type: string; readonly schema: Record<string, unknown> };
  /** The success status and its media type (default 200, application/json). */
  readonly ok?: { readonly status?: number; readonly type?: string; readonly description?: string };
  /** Statuses it may refuse with, each a problem+json with a stable code. */
  readonly refusals?: readonly number[];
  /** Whether it needs a bearer token (admin API, host receipts). */
  readonly bearer?: boolean;
}

const PROBLEM = {
  type: 'object',
  required: ['title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', description: 'stable error code (docs/errors.md)' },
    detail: { type: 'string' },
  },
};

const REASONS: Record<number, string> = {
  400: 'the request is malformed (REQUEST_FIELD_INVALID and others)',
  401: 'a bearer token is missing or wrong',
  403: 'refused by policy',
  404: 'nothing there',
  408: 'the request took too long to arrive',
  413: 'the body is too large (REQUEST_TOO_LARGE)',
  415: 'wrong media type',
  422: 'the evidence or binding does not pass',
  429: 'busy: retry after the Retry-After seconds',
  502: 'an upstream (enclave, verifier, KDS) failed',
  503: 'not ready, or storage unavailable: retry',
};

/** The OpenAPI 3.1 document for `paths` (path -> method -> operation). */
export function openApiDocument(info: {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
}): Record<string, unknown> {
  const paths = Object.fromEntries(
    Object.entries(info.paths).map(([path, methods]) => [
      path,
      Object.fromEntries(
        Object.entries(methods).map(([method, operation]) => [
          method,
          {
            summary: operation.summary,
            ...(operation.description === undefined ? {} : { description: operation.description }),
            ...(operation.parameters === undefined
              ? {}
              : {
                  parameters: operation.parameters.map((parameter) => ({
                    ...parameter,
                    required: parameter.in === 'path' ? true : (parameter.required ?? false),
                    schema: parameter.schema ?? { type: 'string' },
                  })),
                }),
            ...(operation.body === undefined
              ? {}
              : {
                  requestBody: {
                    required: true,
                    content: { [operation.body.type]: { schema: operation.body.schema } },
                  },
                }),
            ...(operation.bearer === true ? { security: [{ bearer: [] }] } : {}),
            responses: {
              [String(operation.ok?.status ?? 200)]: {
                description: operation.ok?.description ?? 'done',
                content: { [operation.ok?.type ?? 'application/json']: {} },
              },
              ...Object.fromEntries(
                (operation.refusals ?? []).map((status) => [
                  String(status),
                  {
                    description: REASONS[status] ?? 'refused',
                    content: {
                      'application/problem+json': {
                        schema: { $ref: '#/components/schemas/Problem' },
                      },
                    },
                  },
                ]),
              ),
            },
          },
        ]),
      ),
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description: info.description,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}

/** The skeleton's routes every service answers, described once. */
export const SKELETON_PATHS: Readonly<Record<string, Readonly<Record<string, Operation>>>> = {
  '/livez': { get: { summary: 'Alive: the process answers' } },
  '/healthz': { get: { summary: 'Alive (the older name of /livez)' } },
  '/readyz': {
    get: { summary: 'Ready: its stores, keys and upstreams answer', refusals: [503] },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics',
      ok: { type: 'text/plain; version=0.0.4' },
    },
  },
  '/openapi.json': { get: { summary: 'This description (OpenAPI 3.1)' } },
};

/** Express route paths as OpenAPI writes them (`:id` -> `{id}`). */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');
