/**
 * `POST /v1/receipts` and `POST /v1/receipts/batch`, written against
 * node:http: the routes every answer through a host takes, so the verifier's
 * server answers them without express, and the express app mounts the same
 * handlers for servers built from the app alone. Only hosts holding a token
 * the operator gave may grow the log. Each answer carries the signed
 * checkpoint of the receipt's commit group and its inclusion path, so a
 * client checks the receipt without asking for them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromBase64, RequestError } from '@veritee/attestations';
import { parseBinding, parseInclusion, RECEIPT_BATCH_MAX_ITEMS } from '@veritee/attestations/wire';
import {
  problemBody,
  problemOf,
  readBoundedBody,
  sendPlain,
  type Admission,
} from '@veritee/service';
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

export interface ReceiptRouteDeps {
  readonly receipts: ReceiptService;
  readonly admission: Admission;
  /** SHA-256 (hex) of each host's token, or 'open' to let anyone have receipts issued. */
  readonly receiptTokens: readonly string[] | 'open';
  readonly maxBodyBytes: number;
  /** With these, each answer carries a checkpoint covering the receipt and its inclusion path. */
  readonly log: ReceiptLog;
  readonly checkpoints: Checkpoints;
}

type Issued = Awaited<ReturnType<ReceiptService['issue']>>;

/**
 * `POST /v1/receipts` (one answer) and `POST /v1/receipts/batch` (the answers
 * of one batched quote: its evidence once, each binding with its inclusion).
 * A batch is appraised once and committed together; each answer gets its
 * receipt, or the refusal of its own binding (4xx, in its place), and the
 * whole request fails as one when the evidence is refused or the log fails
 * (receipts are idempotent: a retry gets those already issued).
 */
export function receiptRoutes(deps: ReceiptRouteDeps): { one: PlainRoute; batch: PlainRoute } {
  const hostDigests =
    deps.receiptTokens === 'open'
      ? undefined
      : deps.receiptTokens.map((hex) => Buffer.from(hex, 'hex'));
  const readBody = async (request: IncomingMessage) => {
    if (hostDigests !== undefined && !isOneOf(request.headers.authorization, hostDigests))
      throw new RequestError(
        401,
        'RECEIPT_UNAUTHORIZED',
        'receipts are issued to hosts with a token the operator gave them',
      );
    return jsonBody(request, deps.maxBodyBytes);
  };
  // One checkpoint per log size is signed, shared by the whole commit group.
  const answer = async (issued: readonly Issued[]) => {
    const checkpoint = await deps.checkpoints.current();
    return Promise.all(
      issued.map(async ({ id, receipt, index }) => {
        const path = await deps.log.inclusionProof(index, checkpoint.size);
        return {
          id,
          receipt,
          log: {
            index,
            inclusion: {
              size: checkpoint.size,
              path: path.map((hash) => Buffer.from(hash).toString('hex')),
              note: checkpoint.note,
            },
          },
        };
      }),
    );
  };

  const one: PlainRoute = async (request, response) => {
    const body = await readBody(request);
    const evidence = base64Field(body['evidence'], 'evidence');
    const binding = parseBinding(body['binding']);
    const inclusion =
      body['inclusion'] === undefined ? undefined : parseInclusion(body['inclusion']);
    const issued = await deps.admission.run(() =>
      deps.receipts.issue(evidence, binding, inclusion),
    );
    const [issuedJson] = await answer([issued]);
    sendPlain(response, 201, JSON.stringify(issuedJson));
  };

  const batch: PlainRoute = async (request, response) => {
    const body = await readBody(request);
    const evidence = base64Field(body['evidence'], 'evidence');
    const items = body['items'];
    if (!Array.isArray(items) || items.length === 0 || items.length > RECEIPT_BATCH_MAX_ITEMS)
      throw new RequestError(
        400,
        'REQUEST_FIELD_INVALID',
        `items must list 1 to ${RECEIPT_BATCH_MAX_ITEMS} answers`,
      );
    // Every item is read before anything is issued: a malformed one refuses the request.
    const parsed = items.map((item: unknown, position) => {
      const fields = (typeof item === 'object' && item !== null ? item : {}) as Record<
        string,
        unknown
      >;
      try {
        return {
          binding: parseBinding(fields['binding']),
          inclusion:
            fields['inclusion'] === undefined ? undefined : parseInclusion(fields['inclusion']),
        };
      } catch (error) {
        throw new RequestError(
          400,
          'REQUEST_FIELD_INVALID',
          `items[${position}]: ${error instanceof Error ? error.message : 'invalid'}`,
        );
      }
    });
    const settled = await deps.admission.run(() =>
      Promise.allSettled(
        parsed.map(({ binding, inclusion }) => deps.receipts.issue(evidence, binding, inclusion)),
      ),
    );
    // Refusals of one binding stay in its place; anything else (the evidence, the log) is the request's.
    const own = (reason: unknown) =>
      reason instanceof RequestError &&
      reason.status < 500 &&
      reason.code !== 'RECEIPT_EVIDENCE_REJECTED';
    const failed = settled.find(
      (outcome): outcome is PromiseRejectedResult =>
        outcome.status === 'rejected' && !own(outcome.reason),
    );
    if (failed !== undefined) throw failed.reason;
    const issued = settled.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    const answers = await answer(issued);
    let next = 0;
    const results = settled.map((outcome) =>
      outcome.status === 'fulfilled'
        ? answers[next++]
        : { problem: problemBody(problemOf(outcome.reason, 'verifier')) },
    );
    sendPlain(response, 201, JSON.stringify({ receipts: results }));
  };

  return { one, batch };
}
