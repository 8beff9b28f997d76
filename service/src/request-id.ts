/**
 * Request ids travel host -> enclave -> verifier in `x-request-id`, so one
 * inference can be followed through every service's log. An id a caller sends
 * is kept only when it is short and plain; otherwise a new one is made.
 */
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

const PLAIN_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request id to use for a request that arrived with `header`. */
export function requestIdFrom(header: string | readonly string[] | undefined): string {
  const given = Array.isArray(header) ? (header as readonly string[])[0] : header;
  return typeof given === 'string' && PLAIN_ID.test(given) ? given : randomUUID();
}
