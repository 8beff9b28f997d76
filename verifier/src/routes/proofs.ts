/**
 * The log's proof routes, written against node:http so the verifier's server
 * can answer them without express (they are its hottest reads), and mounted
 * in the express app as well, for servers built from the app alone:
 *
 *   GET /v1/log/proofs/inclusion?index=I&size=N    RFC 9162 inclusion proof
 *   GET /v1/log/proofs/consistency?first=M&second=N RFC 9162 consistency proof
 *
 * A proof between fixed sizes never changes, so answers may be cached.
 */
import type { ServerResponse } from 'node:http';
import { RequestError } from '@veritee/attestations';
import { sendPlain } from '@veritee/service';
import type { ReceiptLog } from '../log/receipt-log.js';

export type ProofRoute = (query: URLSearchParams, response: ServerResponse) => Promise<void>;

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Hashes as hex strings, converted in one pass (a proof holds up to 64 of them). */
function hexHashes(hashes: readonly Uint8Array[]): string[] {
  const hex = Buffer.concat(hashes).toString('hex');
  let offset = 0;
  return hashes.map(({ byteLength }) => hex.slice(offset, (offset += byteLength * 2)));
}

/** An integer query parameter of at least `min`. @throws RequestError 400 REQUEST_FIELD_INVALID */
export function integerParam(query: URLSearchParams, name: string, min: number): number {
  const value = query.get(name);
  const number = value !== null && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min)
    throw new RequestError(400, 'REQUEST_FIELD_INVALID', `${name} must be an integer >= ${min}`);
  return number;
}

/** Each route by its path. */
export function proofRoutes(log: ReceiptLog): ReadonlyMap<string, ProofRoute> {
  return new Map<string, ProofRoute>([
    [
      '/v1/log/proofs/inclusion',
      async (query, response) => {
        const size = integerParam(query, 'size', 1);
        const index = integerParam(query, 'index', 0);
        if (size > (await log.size()) || index >= size)
          throw new RequestError(
            400,
            'REQUEST_FIELD_INVALID',
            'index and size must lie within the log',
          );
        const path = hexHashes(await log.inclusionProof(index, size));
        sendPlain(response, 200, JSON.stringify({ index, size, path }), undefined, IMMUTABLE);
      },
    ],
    [
      '/v1/log/proofs/consistency',
      async (query, response) => {
        const first = integerParam(query, 'first', 1);
        const second = integerParam(query, 'second', 1);
        if (second > (await log.size()) || first > second)
          throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'need first <= second <= log size');
        const proof = hexHashes(await log.consistencyProof(first, second));
        sendPlain(response, 200, JSON.stringify({ first, second, proof }), undefined, IMMUTABLE);
      },
    ],
  ]);
}
