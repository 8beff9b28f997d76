/**
 * Admission control: at most `maxInFlight` requests run at once and at most
 * `maxQueue` wait behind them; past that a request is refused at once with
 * 429 and a Retry-After, so overload sheds load instead of growing memory.
 */
import { RequestError } from '@veritee/attestations';

export interface Admission {
  /** Runs `work` when a slot is free. @throws RequestError 429 HOST_BUSY when the queue is full */
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly inFlight: () => number;
  readonly queued: () => number;
}

export class Busy extends RequestError {
  constructor(retryAfterSeconds: number) {
    super(429, 'HOST_BUSY', 'the host is at capacity; retry later', { retryAfterSeconds });
  }
}

export function createAdmission(options: {
  readonly maxInFlight: number;
  readonly maxQueue: number;
}): Admission {
  let running = 0;
  const waiting: Array<() => void> = [];

  async function run<T>(work: () => Promise<T>): Promise<T> {
    if (running >= options.maxInFlight) {
      if (waiting.length >= options.maxQueue) throw new Busy(1);
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
