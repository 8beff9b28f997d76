/**
 * The client's HTTP calls, with a timeout each; failures become typed errors
 * that carry the server's problem code, never its body.
 */
import { UpstreamError } from '@veritee/attestations';

export interface Http {
  getJson(url: string): Promise<unknown>;
  postBytes(url: string, body: Uint8Array): Promise<unknown>;
}

async function problemCode(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { code?: unknown };
    return typeof body.code === 'string' && /^[A-Z_]{1,64}$/.test(body.code)
      ? body.code
      : 'UNKNOWN';
  } catch {
    return 'UNKNOWN';
  }
}

export function createHttp(fetcher: typeof fetch, timeoutMs: number): Http {
  async function call(url: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await fetcher(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new UpstreamError('CLIENT_UNREACHABLE', `${new URL(url).origin} did not answer`, {
        cause: error,
      });
    }
    if (!response.ok) {
      const code = await problemCode(response);
      const retry = response.headers.get('retry-after');
      throw new UpstreamError(
        'CLIENT_UPSTREAM_FAILED',
        `${new URL(url).pathname} answered ${response.status} (${code})${retry === null ? '' : `; retry after ${retry} s`}`,
      );
    }
    try {
      return await response.json();
    } catch (error) {
      throw new UpstreamError(
        'CLIENT_UPSTREAM_FAILED',
        `${new URL(url).pathname} answered no JSON`,
        {
          cause: error,
        },
      );
    }
  }
  return {
    getJson: (url) => call(url, { headers: { accept: 'application/json' } }),
    postBytes: (url, body) =>
      call(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
        body,
      }),
  };
}
