import { request as httpRequest } from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly type: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** One real HTTP request over TCP (`base` = http://host:port) or a Unix socket (`socketPath`). */
export function http(
  target: { base?: string; socketPath?: string },
  method: string,
  path: string,
  body?: Uint8Array,
  type = 'message/ohttp-req',
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, target.base ?? 'http://localhost');
    const request = httpRequest(
      {
        method,
        ...(target.socketPath === undefined
          ? { host: url.hostname, port: url.port }
          : { socketPath: target.socketPath }),
        path: url.pathname,
        headers:
          body === undefined ? {} : { 'content-type': type, 'content-length': body.byteLength },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: String(response.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
            headers: response.headers,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : Buffer.from(body));
  });
}
