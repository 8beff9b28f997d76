/**
 * The relay: sealed bytes to the enclave and its answer back, with a receipt
 * from the verifier attached. The host parses only public formats (evidence,
 * binding, receipt); the prompt and output stay sealed end to end.
 */
import { EvidenceError, isVeriteeError, RequestError, UpstreamError } from '@veritee/attestations';
import {
  enclaveAnswerToJson,
  enclaveEvidenceToJson,
  hostAnswerToJson,
  parseEnclaveAnswer,
  parseEnclaveEvidence,
  parseAttachedInclusion,
  type AttachedReceipt,
  OHTTP_REQUEST_TYPE,
} from '@veritee/attestations/wire';
import { problemCodeOf } from './problem-code.js';
import { createReceiptBatches, type BatchOutcome } from './receipt-batches.js';
import type { Upstream, UpstreamResponse } from './upstream.js';

export type ReceiptOutcome = 'issued' | 'refused' | 'unavailable' | 'off';

export interface RelayDeps {
  readonly enclave: Upstream;
  /** Unset: answers go out without receipts. */
  readonly verifier?: Upstream | undefined;
  readonly onReceipt?: (outcome: ReceiptOutcome) => void;
  /**
   * How long the receipt requests of a batch's answers wait for the rest of
   * it before going to the verifier together (default 5 ms; they go at once
   * when all are in); 0 asks for each answer's receipt alone.
   */
  readonly receiptBatchWindowMs?: number;
}

const DEFAULT_RECEIPT_BATCH_WINDOW_MS = 5;

/** An answer goes out without a receipt, saying why. */
const noReceipt = (code: string) => ({ receiptError: code });

function problemCode(response: UpstreamResponse): string | undefined {
  try {
    return problemCodeOf(JSON.parse(response.body.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Parses what the enclave sent; a malformed answer is the enclave failing (502), code kept. */
function fromEnclave<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof EvidenceError)
      throw new UpstreamError(error.code, error.message, { cause: error });
    throw error;
  }
}

function json(response: UpstreamResponse, what: string): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw new UpstreamError('HOST_ENCLAVE_FAILED', `the ${what} is not JSON`, { cause: error });
  }
}

/** The verifier's 201 answer, or undefined when it is not what the verifier sends. */
function parseIssued(response: UpstreamResponse): AttachedReceipt | undefined {
  try {
    return issuedFrom(JSON.parse(response.body.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** One issued receipt as the verifier writes it, or undefined when it is not that. */
function issuedFrom(value: unknown): AttachedReceipt | undefined {
  try {
    const issued = (value ?? {}) as {
      id?: unknown;
      receipt?: unknown;
      log?: { index?: unknown; inclusion?: unknown };
    };
    const { id, receipt } = issued;
    const index = issued.log?.index;
    if (typeof id !== 'string' || typeof receipt !== 'string' || typeof index !== 'number')
      return undefined;
    // Passed on as the verifier sent it; the client checks it against the verifier's key.
    const inclusion =
      issued.log?.inclusion === undefined
        ? undefined
        : parseAttachedInclusion(issued.log.inclusion, index);
    return { id, jws: receipt, logIndex: index, ...(inclusion === undefined ? {} : { inclusion }) };
  } catch {
    return undefined;
  }
}

/** Passes the enclave's refusal of a bad request through; anything else is the enclave failing. */
function enclaveFailure(response: UpstreamResponse): never {
  const code = problemCode(response);
  if (response.status >= 400 && response.status < 500 && code !== undefined)
    throw new RequestError(response.status, code, 'the enclave refused the request');
  throw new UpstreamError('HOST_ENCLAVE_FAILED', `the enclave answered ${response.status}`);
}

export function createRelay(deps: RelayDeps) {
  const windowMs = deps.receiptBatchWindowMs ?? DEFAULT_RECEIPT_BATCH_WINDOW_MS;
  const batches =
    deps.verifier === undefined || windowMs <= 0
      ? undefined
      : createReceiptBatches(deps.verifier, windowMs);

  /** Asks for one answer's receipt: with the rest of its batch when it has one. */
  async function ask(
    verifier: Upstream,
    answer: Record<string, unknown>,
    requestId: string | undefined,
  ): Promise<BatchOutcome> {
    const { evidence, binding, inclusion } = answer;
    // The answer was parsed from the enclave: a batch's inclusion has its size.
    const size = (inclusion as { size?: unknown } | undefined)?.size;
    if (
      batches !== undefined &&
      typeof evidence === 'string' &&
      typeof size === 'number' &&
      size > 1
    )
      return batches.request(evidence, { binding, inclusion }, size, requestId);
    const request = { evidence, binding, ...(inclusion === undefined ? {} : { inclusion }) };
    try {
      const response = await verifier.call(
        '/v1/receipts',
        { bytes: new TextEncoder().encode(JSON.stringify(request)), type: 'application/json' },
        requestId,
      );
      return { kind: 'response', response };
    } catch (error) {
      return { kind: 'unreachable', error };
    }
  }

  async function receiptFor(
    answer: Record<string, unknown>,
    requestId: string | undefined,
  ): Promise<{ receipt?: AttachedReceipt; receiptError?: string }> {
    if (deps.verifier === undefined) {
      deps.onReceipt?.('off');
      return noReceipt('HOST_RECEIPTS_OFF');
    }
    const outcome = await ask(deps.verifier, answer, requestId);
    if (outcome.kind === 'unreachable') {
      deps.onReceipt?.('unavailable');
      return noReceipt(
        isVeriteeError(outcome.error) ? outcome.error.code : 'HOST_UPSTREAM_UNREACHABLE',
      );
    }
    if (outcome.kind === 'refused') {
      deps.onReceipt?.('refused');
      return noReceipt(outcome.code ?? 'HOST_VERIFIER_FAILED');
    }
    const issued =
      outcome.kind === 'issued'
        ? issuedFrom(outcome.issued)
        : outcome.response.status === 201
          ? parseIssued(outcome.response)
          : undefined;
    if (issued === undefined) {
      const status = outcome.kind === 'response' ? outcome.response.status : 201;
      const refused = status >= 400 && status < 500;
      deps.onReceipt?.(refused ? 'refused' : 'unavailable');
      const code = outcome.kind === 'response' ? problemCode(outcome.response) : undefined;
      return code === undefined ? noReceipt('HOST_VERIFIER_FAILED') : noReceipt(code);
    }
    deps.onReceipt?.('issued');
    return { receipt: issued };
  }

  return {
    /** The enclave's standing evidence, checked for shape. @throws UpstreamError */
    async attestation(requestId?: string): Promise<Record<string, unknown>> {
      const response = await deps.enclave.call('/v1/evidence', undefined, requestId);
      if (response.status !== 200) enclaveFailure(response);
      return enclaveEvidenceToJson(
        fromEnclave(() => parseEnclaveEvidence(json(response, 'enclave evidence'))),
      );
    },

    /**
     * Relays one sealed request; the answer carries the verifier's receipt or why there is none.
     * @throws RequestError the enclave's refusal; UpstreamError when the enclave fails
     */
    async infer(sealed: Uint8Array, requestId?: string): Promise<Record<string, unknown>> {
      {
        const response = await deps.enclave.call(
          '/v1/infer',
          { bytes: sealed, type: OHTTP_REQUEST_TYPE },
          requestId,
        );
        if (response.status !== 200) enclaveFailure(response);
        const answer = enclaveAnswerToJson(
          fromEnclave(() => parseEnclaveAnswer(json(response, 'enclave answer'))),
        );
        return hostAnswerToJson({ answer, ...(await receiptFor(answer, requestId)) });
      }
    },

    /** The enclave's Oblivious HTTP key configurations (application/ohttp-keys), as it serves them. */
    async ohttpKeys(requestId?: string): Promise<Uint8Array> {
      const response = await deps.enclave.call('/v1/ohttp-keys', undefined, requestId);
      if (response.status !== 200) enclaveFailure(response);
      return new Uint8Array(response.body);
    },

    /** Whether the enclave (and the verifier, when set) answer their health checks. */
    async readiness(): Promise<{ enclave: boolean; verifier?: boolean }> {
      const healthy = (upstream: Upstream) =>
        upstream.call('/livez').then(
          (response) => response.status === 200,
          () => false,
        );
      const [enclave, verifier] = await Promise.all([
        healthy(deps.enclave),
        deps.verifier === undefined ? undefined : healthy(deps.verifier),
      ]);
      return { enclave, ...(verifier === undefined ? {} : { verifier }) };
    },
  };
}

export type Relay = ReturnType<typeof createRelay>;
