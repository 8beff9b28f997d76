/**
 * The OpenAI REST API for what a Veritee deployment serves, on the client's
 * side: every request is sealed to the attested enclave and every answer is
 * checked (quote, binding, receipt, inclusion) by the client before it is
 * returned, so existing OpenAI code runs unchanged and gets verified results.
 *
 *   GET  /v1/models        the attested model
 *   POST /v1/moderations   the bundled classifier: its three heads as
 *                          categories, each flagged past its threshold
 *
 * As a WHATWG fetch handler: `veriteeFetch` for `new OpenAI({ fetch })`, and
 * the `veritee proxy` command serves the same handler on 127.0.0.1. Each answer
 * carries a `veritee` object (receipt, log index, measurement, model hash,
 * simulated) and the `x-veritee-receipt` header; a refusal is an OpenAI-shaped
 * error whose `code` is Veritee's.
 */
import { isVeriteeError, toHex, UpstreamError } from '@veritee/attestations';
import type { Client, InferenceResult } from './client.js';
import { Refused } from './refused.js';

export interface OpenAiOptions {
  readonly client: Client;
  /** The model id answers name. Default `veritee-guardrail`. */
  readonly modelId?: string | undefined;
  /** Score at or above which a category is flagged, by category. Default 0.5 each. */
  readonly thresholds?: Readonly<Record<string, number>> | undefined;
  /** Inputs one moderation request may hold. Default 32. */
  readonly maxInputs?: number | undefined;
  /** Largest request body read. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined;
}

/** Header naming the receipt ids of an answer, in input order. */
export const RECEIPT_HEADER = 'x-veritee-receipt';

class OpenAiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly codes: readonly string[];
  constructor(
    status: number,
    code: string,
    type: string,
    message: string,
    codes: readonly string[] = [code],
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.type = type;
    this.codes = codes;
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** What was verified of one answer, in the `veritee` object. */
function verification(result: InferenceResult) {
  return {
    receiptId: result.receipt?.id ?? null,
    logIndex: result.receipt?.logIndex ?? null,
    receiptChecked: result.receipt?.checked !== undefined,
    measurement: result.verified.measurement,
    modelHash: result.verified.modelHash,
    simulated: result.verified.simulated,
    tee: result.verified.tee,
    approval: result.verified.approval,
  };
}

/** The classifier's output (`{ head: [score] }`) as scores by category. */
function scores(output: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new OpenAiError(
      502,
      'MODEL_OUTPUT_UNEXPECTED',
      'upstream_error',
      'the model output is not JSON',
    );
  }
  const found: Record<string, number> = {};
  for (const [head, value] of Object.entries(parsed as Record<string, unknown>)) {
    const score = Array.isArray(value) ? (value[0] as unknown) : value;
    if (typeof score !== 'number' || !Number.isFinite(score))
      throw new OpenAiError(
        502,
        'MODEL_OUTPUT_UNEXPECTED',
        'upstream_error',
        `the model output's ${head.slice(0, 64)} is not a score`,
      );
    found[head] = score;
  }
  return found;
}

async function readBody(request: Request, limit: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit)
    throw new OpenAiError(
      413,
      'REQUEST_TOO_LARGE',
      'invalid_request_error',
      `the body is larger than ${limit} bytes`,
    );
  const text = await request.text();
  if (Buffer.byteLength(text) > limit)
    throw new OpenAiError(
      413,
      'REQUEST_TOO_LARGE',
      'invalid_request_error',
      `the body is larger than ${limit} bytes`,
    );
  try {
    return JSON.parse(text);
  } catch {
    throw new OpenAiError(
      400,
      'REQUEST_FIELD_INVALID',
      'invalid_request_error',
      'the body is not JSON',
    );
  }
}

/** A fetch-shaped handler of the OpenAI routes above. */
export function openAiHandler(options: OpenAiOptions): (request: Request) => Promise<Response> {
  const modelId = options.modelId ?? 'veritee-guardrail';
  const maxInputs = options.maxInputs ?? 32;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const threshold = (category: string) => options.thresholds?.[category] ?? 0.5;

  const models = async () => {
    const { enclave, approval } = await options.client.attest();
    return json(200, {
      object: 'list',
      data: [
        {
          id: modelId,
          object: 'model',
          created: Math.floor(enclave.issuedAt.getTime() / 1000),
          owned_by: 'veritee',
          veritee: {
            modelHash: toHex(enclave.modelHash),
            measurement: toHex(enclave.verdict.claims.measurement),
            tee: enclave.tee,
            simulated: enclave.simulated,
            approval,
          },
        },
      ],
    });
  };

  const moderations = async (request: Request) => {
    const body = (await readBody(request, maxBodyBytes)) as { input?: unknown; model?: unknown };
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (
      !Array.isArray(inputs) ||
      inputs.length === 0 ||
      !inputs.every((input) => typeof input === 'string' && input.length > 0)
    )
      throw new OpenAiError(
        400,
        'REQUEST_FIELD_INVALID',
        'invalid_request_error',
        'input must be a non-empty string or an array of them',
      );
    if (inputs.length > maxInputs)
      throw new OpenAiError(
        400,
        'REQUEST_FIELD_INVALID',
        'invalid_request_error',
        `at most ${maxInputs} inputs a request`,
      );
    if (body.model !== undefined && body.model !== modelId)
      throw new OpenAiError(
        404,
        'MODEL_NOT_FOUND',
        'invalid_request_error',
        `this deployment serves ${modelId}`,
      );
    // One after another: each input is its own sealed request, attested answer and receipt.
    const answers: InferenceResult[] = [];
    for (const input of inputs as string[]) answers.push(await options.client.infer(input));
    const results = answers.map((answer) => {
      const categoryScores = scores(answer.output);
      const categories = Object.fromEntries(
        Object.entries(categoryScores).map(([category, score]) => [
          category,
          score >= threshold(category),
        ]),
      );
      return {
        flagged: Object.values(categories).some(Boolean),
        categories,
        category_scores: categoryScores,
        veritee: verification(answer),
      };
    });
    const receipts = answers.map((answer) => answer.receipt?.id ?? '');
    return json(
      200,
      {
        id: `modr-${receipts[0] || crypto.randomUUID()}`,
        model: modelId,
        results,
        veritee: results[0]?.veritee,
      },
      { [RECEIPT_HEADER]: receipts.join(',') },
    );
  };

  return async (request) => {
    try {
      const path = new URL(request.url).pathname.replace(/\/+$/, '');
      if (request.method === 'GET' && path === '/v1/models') return await models();
      if (request.method === 'POST' && path === '/v1/moderations')
        return await moderations(request);
      throw new OpenAiError(
        404,
        'REQUEST_NOT_FOUND',
        'invalid_request_error',
        `${request.method} ${path.slice(0, 100)} is not served: this deployment answers /v1/models and /v1/moderations`,
      );
    } catch (error) {
      const failure =
        error instanceof OpenAiError
          ? error
          : error instanceof Refused
            ? new OpenAiError(403, error.code, 'veritee_refused', error.message, error.codes)
            : error instanceof UpstreamError
              ? new OpenAiError(502, error.code, 'upstream_error', error.message)
              : isVeriteeError(error)
                ? new OpenAiError(502, error.code, 'veritee_error', error.message)
                : new OpenAiError(500, 'INTERNAL_ERROR', 'server_error', 'the proxy failed');
      return json(failure.status, {
        error: {
          message: failure.message,
          type: failure.type,
          param: null,
          code: failure.code,
          veritee: { codes: failure.codes },
        },
      });
    }
  };
}

/** A fetch for the OpenAI SDK (`new OpenAI({ fetch: veriteeFetch(...) })`): the same routes, in process. */
export function veriteeFetch(options: OpenAiOptions): typeof fetch {
  const handle = openAiHandler(options);
  return (input, init) => handle(new Request(input, init));
}
