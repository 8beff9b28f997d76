/**
 * Admission control: at most `maxInFlight` requests run at once and at most
 * `maxQueue` wait behind them; past that a request is refused at once with
 * 429 and a Retry-After, so overload sheds load instead of growing memory.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { RequestError } from '@veritee/attestations';

export interface Admission {
  /** Runs `work` when a slot is free. @throws RequestError 429 (the admission's code) when the queue is full */
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly inFlight: () => number;
  readonly queued: () => number;
}

export class Busy extends RequestError {
  constructor(code: string, retryAfterSeconds: number) {
    super(429, code, 'at capacity; retry later', { retryAfterSeconds });
  }
}

export function createAdmission(options: {
  readonly maxInFlight: number;
  readonly maxQueue: number;
  /** The code of the 429: HOST_BUSY, VERIFIER_BUSY, ENCLAVE_BUSY. */
  readonly busyCode: string;
}): Admission {
  let running = 0;
  const waiting: Array<() => void> = [];

  async function run<T>(work: () => Promise<T>): Promise<T> {
    if (running >= options.maxInFlight) {
      if (waiting.length >= options.maxQueue) throw new Busy(options.busyCode, 1);
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else running += 1;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  }
  return { run, inFlight: () => running, queued: () => waiting.length };
}
/** Server-level limits: how long a slow client may hold a connection, and how many it may hold. */
export interface ServerLimits {
  /** Time to receive a request's headers. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request (a slow body is cut off). */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  /** Connections held at once; more are refused. */
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_024,
};

/**
 * A node:http server that holds slow clients to `limits`. Node enforces the
 * header and request timeouts only when it sweeps its connections (every
 * 30 s by default), so a slow body could otherwise live for twice its limit:
 * the sweep here runs at least every second.
 */
export function createBoundedServer(limits: ServerLimits, listener?: RequestListener): Server {
  const server = createServer(
    {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)),
      ),
    },
    listener,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  return server;
}
