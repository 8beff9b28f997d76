/**
 * HTTP calls from the host to the enclave and the verifier, over keep-alive
 * connections (TCP or a Unix socket), each bounded by a timeout. Failures
 * become UpstreamErrors that name the service, never a body.
 */
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UpstreamError } from '@veritee/attestations';
import { REQUEST_ID_HEADER } from '@veritee/service';

export interface UpstreamResponse {
  readonly status: number;
  readonly body: Buffer;
}

export interface Upstream {
  /**
   * `POST` when a body is given, else `GET`; `requestId` travels in x-request-id.
   * @throws UpstreamError HOST_UPSTREAM_UNREACHABLE, HOST_UPSTREAM_TIMEOUT
   */
  call(
    path: string,
    body?: { readonly bytes: Uint8Array; readonly type: string },
    requestId?: string,
  ): Promise<UpstreamResponse>;
  close(): void;
}

/** Largest answer read from the enclave or verifier. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export function createUpstream(options: {
  /** What the logs and errors call it: enclave or verifier. */
  readonly name: string;
  readonly url: string;
  readonly socketPath?: string | undefined;
  readonly timeoutMs: number;
  /** Sent with every call (the host's receipt token to the verifier). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}): Upstream {
  const base = new URL(options.url);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
    : new Agent({ keepAlive: true, maxSockets: 256 });
  const send = secure ? httpsRequest : httpRequest;
  return {
    call(path, body, requestId) {
      return new Promise<UpstreamResponse>((resolve, reject) => {
        const fail = (code: string, message: string, cause?: unknown, timedOut = false) =>
          reject(new UpstreamError(code, message, { cause, timedOut }));
        const traced = {
          ...options.headers,
          ...(requestId === undefined ? {} : { [REQUEST_ID_HEADER]: requestId }),
        };
        const outgoing = send(
          {
            agent,
            ...(options.socketPath === undefined
              ? { host: base.hostname, port: base.port }
              : { socketPath: options.socketPath }),
            path,
            method: body === undefined ? 'GET' : 'POST',
            headers:
              body === undefined
                ? { accept: 'application/json', ...traced }
                : {
                    accept: 'application/json',
                    'content-type': body.type,
                    'content-length': body.bytes.byteLength,
                    ...traced,
                  },
            timeout: options.timeoutMs,
          },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
              size += chunk.byteLength;
              if (size > MAX_RESPONSE_BYTES) {
                response.destroy();
                fail('HOST_UPSTREAM_UNREACHABLE', `the ${options.name} answered too much`);
              } else chunks.push(chunk);
            });
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
            );
            response.on('error', (error) =>
              fail('HOST_UPSTREAM_UNREACHABLE', `the ${options.name} broke off its answer`, error),
            );
          },
        );
        outgoing.on('timeout', () => {
          outgoing.destroy();
          fail(
            'HOST_UPSTREAM_TIMEOUT',
            `the ${options.name} did not answer within ${options.timeoutMs} ms`,
            undefined,
            true,
          );
        });
        outgoing.on('error', (error) =>
          fail('HOST_UPSTREAM_UNREACHABLE', `the ${options.name} is unreachable`, error),
        );
        outgoing.end(body === undefined ? undefined : body.bytes);
      });
    },
    close: () => agent.destroy(),
  };
}
