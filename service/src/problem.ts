/**
 * One mapping from errors to RFC 9457 problem details, by error class, for
 * every service: what the caller should do decides the status, never a code's
 * spelling. Internal failures say only that something failed.
 */
import {
  ChainError,
  ConfigError,
  EvidenceError,
  RequestError,
  UpstreamError,
  isVeriteeError,
} from '@veritee/attestations';

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  /** Seconds, sent as Retry-After. */
  readonly retryAfter?: number;
  /** Every code behind a refusal. */
  readonly codes?: readonly string[];
}

/** The problem an error answers with; `service` names who failed, for internal errors. */
export function problemOf(error: unknown, service: string): Problem {
  if (error instanceof RequestError)
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfter: error.retryAfterSeconds }),
      ...(error.codes === undefined ? {} : { codes: error.codes }),
    };
  // Malformed or inauthentic input the caller sent.
  if (error instanceof EvidenceError || error instanceof ChainError)
    return { status: 400, code: error.code, detail: error.message };
  if (error instanceof UpstreamError)
    return { status: error.timedOut ? 504 : 502, code: error.code, detail: error.message };
  // The operator must fix it; the caller learns only the code.
  if (error instanceof ConfigError)
    return { status: 500, code: error.code, detail: `the ${service} is misconfigured` };
  if (isVeriteeError(error)) return { status: 503, code: error.code, detail: error.message };
  return { status: 500, code: 'INTERNAL_ERROR', detail: `the ${service} failed unexpectedly` };
}

/** The problem+json body of a problem. */
export function problemBody(problem: Problem): Record<string, unknown> {
  return {
    type: 'about:blank',
    title: problem.code,
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    ...(problem.codes === undefined ? {} : { codes: problem.codes }),
  };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
