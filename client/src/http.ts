/**
 * The client's HTTP calls through the one bounded client: a deadline and a
 * size cap on each; failures become typed errors that carry the server's
 * problem code, never its body.
 */
import { UpstreamError } from '@veritee/attestations';
import { fetchBounded, type BoundedResponse } from '@veritee/http';
import { OHTTP_REQUEST_TYPE } from '@veritee/attestations/wire';

export interface Http {
  getJson(url: string): Promise<unknown>;
  /** A text answer (a C2SP checkpoint, say). */
  getText(url: string): Promise<string>;
  postBytes(url: string, body: Uint8Array): Promise<unknown>;
}

/** Largest answer read: evidence with its certificates and a sealed output are far smaller. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

function assertOk(response: BoundedResponse, url: string): void {
  if (!response.ok) {
    const retry = response.headers.get('retry-after');
    throw new UpstreamError(
      'CLIENT_UPSTREAM_FAILED',
      `${new URL(url).pathname} answered ${response.status} (${response.problemCode() ?? 'UNKNOWN'})${retry === null ? '' : `; retry after ${retry} s`}`,
    );
  }
}

function jsonOf(response: BoundedResponse, url: string): unknown {
  assertOk(response, url);
  try {
    return response.json();
  } catch (error) {
    throw new UpstreamError('CLIENT_UPSTREAM_FAILED', `${new URL(url).pathname} answered no JSON`, {
      cause: error,
    });
  }
}

export function createHttp(fetcher: typeof fetch, timeoutMs: number): Http {
  const options = {
    errorCode: 'CLIENT_UNREACHABLE',
    timeoutMs,
    maxBytes: MAX_ANSWER_BYTES,
    fetch: fetcher,
  };
  return {
    getJson: async (url) =>
      jsonOf(await fetchBounded(url, { ...options, headers: { accept: 'application/json' } }), url),
    getText: async (url) => {
      const response = await fetchBounded(url, { ...options, headers: { accept: 'text/plain' } });
      assertOk(response, url);
      return new TextDecoder().decode(response.body);
    },
    postBytes: async (url, body) =>
      jsonOf(
        await fetchBounded(url, {
          ...options,
          method: 'POST',
          headers: { 'content-type': OHTTP_REQUEST_TYPE, accept: 'application/json' },
          body,
        }),
        url,
      ),
  };
}
