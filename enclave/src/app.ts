/**
 * The enclave's internal API, on plain node:http (no web framework inside the
 * TCB): GET /v1/evidence, POST /v1/infer (sealed bytes in, attested answer
 * out), GET /healthz. Errors are RFC 9457 problem+json with a stable code.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  isVeriteeError,
  ChainError,
  EvidenceError,
  ConfigError,
  RequestError,
} from '@veritee/attestations';
import { enclaveAnswerToJson, enclaveEvidenceToJson } from '@veritee/attestations/wire';
import type { AttestedInference } from './service/attested-inference.js';
import type { EvidenceCache } from './service/evidence-cache.js';
import type { Logger } from './log.js';

export interface AppDeps {
  readonly inference: AttestedInference;
  readonly evidence: EvidenceCache;
  readonly logger: Logger;
  readonly maxRequestBytes: number;
}

function statusOf(error: unknown): { status: number; code: string; detail: string } {
  if (error instanceof RequestError)
    return { status: error.status, code: error.code, detail: error.message };
  if (error instanceof EvidenceError || error instanceof ChainError)
    return { status: 400, code: error.code, detail: error.message };
  if (error instanceof ConfigError)
    return { status: 500, code: error.code, detail: 'the enclave is misconfigured' };
  if (isVeriteeError(error)) return { status: 503, code: error.code, detail: error.message };
  return { status: 500, code: 'INTERNAL_ERROR', detail: 'the enclave failed unexpectedly' };
}

// Bodies past the limit are drained, not buffered, so the client reads our 413; absurd ones are cut off.
const DRAIN_FACTOR = 16;

async function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limit * DRAIN_FACTOR) {
    request.destroy();
    throw new RequestError(413, 'REQUEST_TOO_LARGE', `body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > limit * DRAIN_FACTOR) {
      request.destroy();
      break;
    }
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit)
    throw new RequestError(413, 'REQUEST_TOO_LARGE', `body is larger than ${limit} bytes`);
  return new Uint8Array(Buffer.concat(chunks));
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  type = 'application/json',
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

export function createApp(deps: AppDeps) {
  return createServer((request, response) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const route = `${request.method ?? ''} ${(request.url ?? '').split('?')[0] ?? ''}`;
    const finish = (status: number, code?: string) =>
      deps.logger.info('request', {
        method: request.method ?? '',
        route: route.split(' ')[1] ?? '',
        status,
        requestId,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        ...(code === undefined ? {} : { code }),
      });

    const handle = async () => {
      switch (route) {
        case 'GET /healthz':
          return send(response, 200, { status: 'ok' });
        case 'GET /v1/evidence':
          return send(response, 200, enclaveEvidenceToJson(await deps.evidence.current()));
        case 'POST /v1/infer': {
          if (!(request.headers['content-type'] ?? '').startsWith('application/octet-stream')) {
            throw new RequestError(
              415,
              'REQUEST_MEDIA_TYPE_UNSUPPORTED',
              'send the sealed request as application/octet-stream',
            );
          }
          const answer = await deps.inference.infer(await readBody(request, deps.maxRequestBytes));
          return send(response, 200, enclaveAnswerToJson(answer));
        }
        default:
          throw new RequestError(404, 'REQUEST_NOT_FOUND', 'no such route');
      }
    };
    handle().then(
      () => finish(response.statusCode),
      (error: unknown) => {
        const { status, code, detail } = statusOf(error);
        if (status >= 500)
          deps.logger.error('request failed', {
            route: route.split(' ')[1] ?? '',
            code,
            requestId,
          });
        if (!response.headersSent)
          send(
            response,
            status,
            { type: 'about:blank', title: code, status, code, detail },
            'application/problem+json',
          );
        finish(status, code);
      },
    );
  });
}
