/**
 * Receipts for the answers of one batched quote, asked for together. The
 * enclave answers every request of a batch at once, so the host gathers
 * their receipt requests by evidence and sends one `POST /v1/receipts/batch`
 * once every answer of the batch is in (its inclusion says how many), or
 * `windowMs` after the first when some never come (answered elsewhere,
 * failed): the verifier then appraises the quote once and commits the
 * receipts together, instead of once per answer over HTTP.
 */
import { RECEIPT_BATCH_MAX_ITEMS } from '@veritee/attestations/wire';
import { problemCodeOf } from './problem-code.js';
import type { Upstream, UpstreamResponse } from './upstream.js';

/** What the verifier said about one answer of a batch. */
export type BatchOutcome =
  /** Its receipt, as `POST /v1/receipts` answers it (unchecked here). */
  | { readonly kind: 'issued'; readonly issued: unknown }
  /** A refusal of this answer's own binding, with the verifier's code when it gave one. */
  | { readonly kind: 'refused'; readonly code: string | undefined }
  /** The whole request was answered otherwise (refused quote, failing log): the response. */
  | { readonly kind: 'response'; readonly response: UpstreamResponse }
  /** The verifier could not be reached. */
  | { readonly kind: 'unreachable'; readonly error: unknown };

interface Group {
  readonly items: Array<{ readonly binding: unknown; readonly inclusion: unknown }>;
  readonly settle: Array<(outcome: BatchOutcome) => void>;
  readonly requestId: string | undefined;
  timer?: NodeJS.Timeout;
}

/** One outcome per item, in order; undefined when the body is not the verifier's batch answer. */
function outcomesOf(response: UpstreamResponse, count: number): BatchOutcome[] | undefined {
  try {
    const { receipts } = JSON.parse(response.body.toString('utf8')) as { receipts?: unknown };
    if (!Array.isArray(receipts) || receipts.length !== count) return undefined;
    return receipts.map((entry: unknown): BatchOutcome => {
      const problem = (entry as { problem?: unknown } | null)?.problem;
      if (problem === undefined) return { kind: 'issued', issued: entry };
      return { kind: 'refused', code: problemCodeOf(problem) };
    });
  } catch {
    return undefined;
  }
}

export function createReceiptBatches(verifier: Upstream, windowMs: number) {
  // Answers waiting for the rest of their batch, by evidence (one quote, one group).
  const groups = new Map<string, Group>();

  async function send(evidence: string, group: Group): Promise<void> {
    let response: UpstreamResponse;
    try {
      const body = JSON.stringify({ evidence, items: group.items });
      response = await verifier.call(
        '/v1/receipts/batch',
        { bytes: new TextEncoder().encode(body), type: 'application/json' },
        group.requestId,
      );
    } catch (error) {
      for (const settle of group.settle) settle({ kind: 'unreachable', error });
      return;
    }
    const outcomes = response.status === 201 ? outcomesOf(response, group.items.length) : undefined;
    group.settle.forEach((settle, index) =>
      settle(outcomes?.[index] ?? { kind: 'response', response }),
    );
  }

  function flush(evidence: string): void {
    const group = groups.get(evidence);
    if (group === undefined) return;
    groups.delete(evidence);
    clearTimeout(group.timer);
    void send(evidence, group);
  }

  return {
    /**
     * Asks for the receipt of one answer of a batch of `size` answers over
     * `evidence` (base64, as the enclave sent it).
     */
    request(
      evidence: string,
      item: { readonly binding: unknown; readonly inclusion: unknown },
      size: number,
      requestId: string | undefined,
    ): Promise<BatchOutcome> {
      return new Promise((resolve) => {
        let group = groups.get(evidence);
        if (group === undefined) {
          group = { items: [], settle: [], requestId };
          groups.set(evidence, group);
          group.timer = setTimeout(() => flush(evidence), windowMs);
        }
        group.items.push(item);
        group.settle.push(resolve);
        if (group.items.length >= Math.min(size, RECEIPT_BATCH_MAX_ITEMS)) flush(evidence);
      });
    },
  };
}

export type ReceiptBatches = ReturnType<typeof createReceiptBatches>;
