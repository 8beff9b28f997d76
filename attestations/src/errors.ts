/**
 * Every failure carries a stable `code` (listed in docs/errors.md, never renamed
 * or reused). Subclasses say what the caller should do, not where it happened.
 */
export class VeriteeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The input is malformed: wrong size, unknown version, non-zero reserved bytes. */
export class EvidenceError extends VeriteeError {}

/** A signature, certificate chain, validity period or revocation check failed. */
export class ChainError extends VeriteeError {}

/** A configuration or policy document is invalid; the message names the field. */
export class ConfigError extends VeriteeError {}

/** HTTP input a service refuses; `status` is the HTTP status to answer with. */
export class RequestError extends VeriteeError {
  readonly status: number;
  /** Seconds after which a retry may succeed (sent as Retry-After); unset: none said. */
  readonly retryAfterSeconds: number | undefined;
  /** Every code behind the refusal (each policy violation, say), for the problem's `codes`. */
  readonly codes: readonly string[] | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    options?: { retryAfterSeconds?: number; codes?: readonly string[] },
  ) {
    super(code, message);
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.codes = options?.codes;
  }
}

/** A service we depend on failed or timed out; retrying may help. */
export class UpstreamError extends VeriteeError {
  /** True when it did not answer in time (a gateway answers 504, else 502). */
  readonly timedOut: boolean;
  constructor(code: string, message: string, options?: { cause?: unknown; timedOut?: boolean }) {
    super(code, message, options);
    this.timedOut = options?.timedOut === true;
  }
}

/** True for any error of ours; never throws. */
export function isVeriteeError(value: unknown): value is VeriteeError {
  return value instanceof VeriteeError;
}
