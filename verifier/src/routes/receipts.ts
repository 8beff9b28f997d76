/**
 * `POST /v1/receipts`, written against node:http: the route every answer
 * through a host takes, so the verifier's server answers it without express,
 * and the express app mounts the same handler for servers built from the app
 * alone. Only hosts holding a token the operator gave may grow the log. Each
 * answer carries the signed checkpoint of the receipt's commit group and its
 * inclusion path, so a client checks the receipt without asking for them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromBase64, RequestError } from '@veritee/attestations';
import { parseBinding, parseInclusion } from '@veritee/attestations/wire';
import { readBoundedBody, sendPlain, type Admission } from '@veritee/service';
import type { Checkpoints } from '../log/checkpoints.js';
import type { ReceiptLog } from '../log/receipt-log.js';
import type { ReceiptService } from '../service/receipts.js';

export type PlainRoute = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Whether the bearer token is one of `digests`, compared in constant time through its digest. */
export function isOneOf(header: string | undefined, digests: readonly Buffer[]): boolean {
  const given = header?.startsWith('Bearer ') === true ? header.slice(7) : '';
  if (given === '') return false;
  const digest = sha256(given);
  // Every digest is compared, so timing does not tell which token, if any, matched.
  return digests.reduce((found, candidate) => timingSafeEqual(digest, candidate) || found, false);
}

/** @throws RequestError 400 REQUEST_FIELD_INVALID */
export function base64Field(value: unknown, name: string): Uint8Array {
  const bytes = typeof value === 'string' && value !== '' ? fromBase64(value) : undefined;
  if (bytes === undefined)
    throw new RequestError(400, 'REQUEST_FIELD_INVALID', `${name} must be base64`);
  return bytes;
}

/** A JSON body read within `limit` bytes; a body of another type reads as `{}`, as express.json leaves it. */
async function jsonBody(request: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBoundedBody(request, limit);
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return {};
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'the body could not be read');
  }
}

export function receiptRoute(deps: {
  readonly receipts: ReceiptService;
  readonly admission: Admission;
  /** SHA-256 (hex) of each host's token, or 'open' to let anyone have receipts issued. */
  readonly receiptTokens: readonly string[] | 'open';
  readonly maxBodyBytes: number;
  /** With these, each answer carries a checkpoint covering the receipt and its inclusion path. */
  readonly log: ReceiptLog;
  readonly checkpoints: Checkpoints;
}): PlainRoute {
  const hostDigests =
    deps.receiptTokens === 'open'
      ? undefined
      : deps.receiptTokens.map((hex) => Buffer.from(hex, 'hex'));
  return async (request, response) => {
    if (hostDigests !== undefined && !isOneOf(request.headers.authorization, hostDigests))
      throw new RequestError(
        401,
        'RECEIPT_UNAUTHORIZED',
        'receipts are issued to hosts with a token the operator gave them',
      );
    const body = await jsonBody(request, deps.maxBodyBytes);
    const evidence = base64Field(body['evidence'], 'evidence');
    const binding = parseBinding(body['binding']);
    const inclusion =
      body['inclusion'] === undefined ? undefined : parseInclusion(body['inclusion']);
    const issued = await deps.admission.run(() =>
      deps.receipts.issue(evidence, binding, inclusion),
    );
    // One checkpoint per log size is signed, shared by the whole commit group.
    const checkpoint = await deps.checkpoints.current();
    const path = await deps.log.inclusionProof(issued.index, checkpoint.size);
    sendPlain(
      response,
      201,
      JSON.stringify({
        id: issued.id,
        receipt: issued.receipt,
        log: {
          index: issued.index,
          inclusion: {
            size: checkpoint.size,
            path: path.map((hash) => Buffer.from(hash).toString('hex')),
            note: checkpoint.note,
          },
        },
      }),
    );
  };
}
