/**
 * The OpenAI REST API for what a Veritee deployment serves, on the client's
 * side: every request is sealed to the attested enclave and every answer is
 * checked (quote, binding, receipt, inclusion) by the client before it is
 * returned, so existing OpenAI code runs unchanged and gets verified results.
 *
 *   GET  /v1/models             the attested model
 *   POST /v1/moderations        the bundled classifier: its three heads as
 *                               categories, each flagged past its threshold
 *   POST /v1/embeddings         an embedding model (`task: embedding`)
 *   POST /v1/chat/completions   a generative model (`task: generate`), its
 *                               chat template applied in the enclave; greedy,
 *                               so no sampling parameters are taken
 *
 * As a WHATWG fetch handler: `veriteeFetch` for `new OpenAI({ fetch })`, and
 * the `veritee proxy` command serves the same handler on 127.0.0.1. Each answer
 * carries a `veritee` object (receipt, log index, measurement, model hash,
 * simulated) and the `x-veritee-receipt` header; a refusal is an OpenAI-shaped
 * error whose `code` is Veritee's.
 */
import { isVeriteeError, toHex, UpstreamError } from '@veritee/attestations';
import type { ChatMessage, InferenceInput } from '@veritee/attestations/wire';
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

const unexpectedOutput = (what: string) =>
  new OpenAiError(502, 'MODEL_OUTPUT_UNEXPECTED', 'upstream_error', `the model output ${what}`);

function parseOutput(output: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw unexpectedOutput('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw unexpectedOutput('is not an object');
  return parsed as Record<string, unknown>;
}

/** The classifier's output (`{ head: [score] }`) as scores by category. */
function scores(output: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [head, value] of Object.entries(parseOutput(output))) {
    const score = Array.isArray(value) ? (value[0] as unknown) : value;
    if (typeof score !== 'number' || !Number.isFinite(score))
      throw unexpectedOutput(`'s ${head.slice(0, 64)} is not a score`);
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

const fieldInvalid = (message: string) =>
  new OpenAiError(400, 'REQUEST_FIELD_INVALID', 'invalid_request_error', message);

/** `input` as a non-empty list of non-empty strings, at most `max`. */
function textInputs(input: unknown, max: number): string[] {
  const inputs = typeof input === 'string' ? [input] : input;
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    !inputs.every((item) => typeof item === 'string' && item.length > 0)
  )
    throw fieldInvalid('input must be a non-empty string or an array of them');
  if (inputs.length > max) throw fieldInvalid(`at most ${max} inputs a request`);
  return inputs as string[];
}

/** A chat request's messages, limits and stop strings, as the enclave takes them. */
function chatInput(body: Record<string, unknown>): InferenceInput {
  if (body['stream'] === true)
    throw fieldInvalid('stream is not served: answers come whole, with their receipt');
  if (body['n'] !== undefined && body['n'] !== 1) throw fieldInvalid('n must be 1');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw fieldInvalid('messages must be a non-empty array');
  const parsed = messages.map((message: unknown): ChatMessage => {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    if (
      (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'developer') ||
      typeof content !== 'string'
    )
      throw fieldInvalid('each message needs a role and text content');
    return { role: role === 'developer' ? 'system' : role, content };
  });
  const maxTokens = body['max_completion_tokens'] ?? body['max_tokens'];
  if (maxTokens !== undefined && maxTokens !== null && !Number.isInteger(maxTokens))
    throw fieldInvalid('max_tokens must be an integer');
  const stop = typeof body['stop'] === 'string' ? [body['stop']] : body['stop'];
  if (stop !== undefined && stop !== null && !Array.isArray(stop))
    throw fieldInvalid('stop must be a string or an array of them');
  return {
    messages: parsed,
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    ...(Array.isArray(stop) ? { stop: stop as string[] } : {}),
  };
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

  /** The body, its model checked against the one served. */
  const bodyOf = async (request: Request) => {
    const body = await readBody(request, maxBodyBytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw fieldInvalid('the body must be a JSON object');
    const model = (body as { model?: unknown }).model;
    if (model !== undefined && model !== modelId)
      throw new OpenAiError(
        404,
        'MODEL_NOT_FOUND',
        'invalid_request_error',
        `this deployment serves ${modelId}`,
      );
    return body as Record<string, unknown>;
  };

  /** One after another: each input is its own sealed request, attested answer and receipt. */
  const inferEach = async (inputs: readonly (string | InferenceInput)[]) => {
    const answers: InferenceResult[] = [];
    for (const input of inputs) answers.push(await options.client.infer(input));
    return answers;
  };
  const receiptHeader = (answers: readonly InferenceResult[]) => ({
    [RECEIPT_HEADER]: answers.map((answer) => answer.receipt?.id ?? '').join(','),
  });

  const moderations = async (request: Request) => {
    const body = await bodyOf(request);
    const answers = await inferEach(textInputs(body['input'], maxInputs));
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
    return json(
      200,
      {
        id: `modr-${answers[0]?.receipt?.id ?? crypto.randomUUID()}`,
        model: modelId,
        results,
        veritee: results[0]?.veritee,
      },
      receiptHeader(answers),
    );
  };

  const embeddings = async (request: Request) => {
    const body = await bodyOf(request);
    const format = body['encoding_format'] ?? 'float';
    if (format !== 'float' && format !== 'base64')
      throw fieldInvalid('encoding_format must be float or base64');
    const answers = await inferEach(textInputs(body['input'], maxInputs).map((text) => ({ text })));
    const data = answers.map((answer, index) => {
      const embedding = parseOutput(answer.output)['embedding'];
      if (
        !Array.isArray(embedding) ||
        !embedding.every((value) => typeof value === 'number' && Number.isFinite(value))
      )
        throw unexpectedOutput('is not an embedding');
      return {
        object: 'embedding',
        index,
        // base64: little-endian float32, as OpenAI sends it (and its SDK asks for by default).
        embedding:
          format === 'float'
            ? embedding
            : Buffer.from(Float32Array.from(embedding as number[]).buffer).toString('base64'),
        veritee: verification(answer),
      };
    });
    return json(
      200,
      { object: 'list', model: modelId, data, veritee: data[0]?.veritee },
      receiptHeader(answers),
    );
  };

  const chatCompletions = async (request: Request) => {
    const [answer] = await inferEach([chatInput(await bodyOf(request))]);
    const output = parseOutput(answer!.output);
    const { text, finishReason, tokens } = output;
    if (
      typeof text !== 'string' ||
      (finishReason !== 'stop' && finishReason !== 'length') ||
      !Array.isArray(tokens)
    )
      throw unexpectedOutput('is not generated text');
    return json(
      200,
      {
        id: `chatcmpl-${answer!.receipt?.id ?? crypto.randomUUID()}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: modelId,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            finish_reason: finishReason,
            logprobs: null,
          },
        ],
        usage: { completion_tokens: tokens.length },
        veritee: verification(answer!),
      },
      receiptHeader([answer!]),
    );
  };

  return async (request) => {
    try {
      const path = new URL(request.url).pathname.replace(/\/+$/, '');
      if (request.method === 'GET' && path === '/v1/models') return await models();
      if (request.method === 'POST' && path === '/v1/moderations')
        return await moderations(request);
      if (request.method === 'POST' && path === '/v1/embeddings') return await embeddings(request);
      if (request.method === 'POST' && path === '/v1/chat/completions')
        return await chatCompletions(request);
      throw new OpenAiError(
        404,
        'REQUEST_NOT_FOUND',
        'invalid_request_error',
        `${request.method} ${path.slice(0, 100)} is not served: this deployment answers /v1/models, /v1/moderations, /v1/embeddings and /v1/chat/completions`,
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
