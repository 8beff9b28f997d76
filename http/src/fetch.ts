/**
 * The one HTTP client for calls to another party (the host, the verifier,
 * AMD KDS, the key broker): every call has a deadline that covers the whole
 * answer, and a size cap enforced while the body is read, so a slow or
 * oversized answer costs at most the cap, never the sender's choice. Every
 * failure is an UpstreamError with the caller's code; bodies and URLs' query
 * strings never reach its message.
 */
import { UpstreamError } from '@veritee/attestations';

export interface BoundedFetchOptions {
  /** The code of every UpstreamError this call throws (e.g. KDS_UNAVAILABLE). */
  readonly errorCode: string;
  /** Milliseconds for the whole exchange, body included. */
  readonly timeoutMs: number;
  /** Largest body read; a longer one is cut off and refused. */
  readonly maxBytes: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /** Default the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface BoundedResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** The body as JSON. @throws UpstreamError with the call's code when it is not JSON */
  json(): unknown;
  /** The problem+json `code` of an error answer, when it is a plain code. */
  problemCode(): string | undefined;
}

const PLAIN_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Where a call went, for messages: origin and path, never the query. */
function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function readCapped(
  response: Response,
  maxBytes: number,
  fail: (message: string, cause?: unknown) => never,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return fail(`answered ${declared} bytes; at most ${maxBytes} are read`);
  }
  if (response.body === null) return new Uint8Array(0);
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await reader.read();
    } catch (error) {
      return fail('broke off its answer', error);
    }
    if (read.done) break;
    size += read.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return fail(`answered more than ${maxBytes} bytes`);
    }
    chunks.push(read.value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Fetches `url` within the options' deadline and size cap.
 * @throws UpstreamError `errorCode` when the other side cannot be reached, does not answer in
 *   time (`timedOut`), breaks off, or answers more than `maxBytes`. Error statuses are returned.
 */
export async function fetchBounded(
  url: string | URL,
  options: BoundedFetchOptions,
): Promise<BoundedResponse> {
  const target = new URL(url);
  const signal = AbortSignal.timeout(options.timeoutMs);
  const fail = (message: string, cause?: unknown): never => {
    const timedOut = signal.aborted;
    throw new UpstreamError(
      options.errorCode,
      timedOut
        ? `${where(target)} did not answer within ${options.timeoutMs} ms`
        : `${where(target)} ${message}`,
      { cause, timedOut },
    );
  };
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(target, {
      method: options.method ?? 'GET',
      ...(options.headers === undefined ? {} : { headers: { ...options.headers } }),
      ...(options.body === undefined ? {} : { body: options.body }),
      signal,
      redirect: 'error',
    });
  } catch (error) {
    return fail('could not be reached', error);
  }
  const body = await readCapped(response, options.maxBytes, fail);
  return {
    status: response.status,
    ok: response.ok,
    headers: response.headers,
    body,
    json() {
      try {
        return JSON.parse(new TextDecoder().decode(body)) as unknown;
      } catch (error) {
        return fail(`answered ${response.status} with a body that is not JSON`, error);
      }
    },
    problemCode() {
      try {
        const code = (JSON.parse(new TextDecoder().decode(body)) as { code?: unknown }).code;
        return typeof code === 'string' && PLAIN_CODE.test(code) ? code : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
