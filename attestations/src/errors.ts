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
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** A service we depend on failed or timed out; retrying may help. */
export class UpstreamError extends VeriteeError {}

/** True for any error of ours; never throws. */
export function isVeriteeError(value: unknown): value is VeriteeError {
  return value instanceof VeriteeError;
}
