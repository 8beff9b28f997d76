/**
 * Verifications remembered by everything they read: the evidence, the
 * collateral given with it, the trust store, and the settings that change the
 * outcome. A verification depends on the time only through certificate
 * validity and CRL currency, so a remembered one is reused only inside the
 * window over which those checks gave the answers they gave (`TimeWindow`);
 * the policy is evaluated anew at every use. Only verifications that
 * succeeded are kept, in a bounded map cleared when full. A receipt of a
 * batched quote then costs a hash of its evidence, not a parse and a chain,
 * also when its batch arrives at once: appraisals of one key made while its
 * first verification runs wait for that one (`recallOrVerify`).
 */
import { createHash } from 'node:crypto';
import type { Claims, FieldValue } from './appraise.js';
import type { TrustStore } from './trust.js';
import type { VerifiedEvidence } from '../policy/evaluate.js';

/** Remembered verifications; pass one to `appraise` as `options.memo`. */
export interface AppraisalMemo {
  readonly size: number;
  /** Appraisals answered from the memo so far. */
  readonly hits: number;
  clear(): void;
}

/** What a successful verification left: reused while `at` lies in `verified.window`. */
export interface Remembered {
  readonly verified: VerifiedEvidence;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Computed on the first acceptance. */
  claims?: Claims;
}

interface Store {
  readonly entries: Map<string, Remembered>;
  /** Verifications under way, by key: bounded by the appraisals in flight. */
  readonly running: Map<string, Promise<Remembered>>;
  readonly max: number;
  hits: number;
}

const stores = new WeakMap<AppraisalMemo, Store>();

/** @param max entries kept before the memo is cleared; default 4096 */
export function createAppraisalMemo(max = 4096): AppraisalMemo {
  const store: Store = { entries: new Map(), running: new Map(), max, hits: 0 };
  const memo: AppraisalMemo = {
    get size() {
      return store.entries.size;
    },
    get hits() {
      return store.hits;
    },
    clear: () => store.entries.clear(),
  };
  stores.set(memo, store);
  return memo;
}

// Trust stores are compared by identity: each object gets a number of its own.
const trustIds = new WeakMap<TrustStore, number>();
let nextTrustId = 0;

/** What a verification reads, besides the time. */
export interface MemoInput {
  readonly evidence: Uint8Array;
  readonly endorsement?: Uint8Array | string | undefined;
  readonly product?: string | undefined;
  readonly crls?: ReadonlyArray<Uint8Array | string> | undefined;
  readonly trust: TrustStore;
  readonly allowSimulated: boolean;
  readonly crlGraceSeconds: number;
}

/** The key naming everything a verification reads (each part length-prefixed). */
export function memoKey(input: MemoInput): string {
  let trustId = trustIds.get(input.trust);
  if (trustId === undefined) {
    trustId = nextTrustId++;
    trustIds.set(input.trust, trustId);
  }
  const hash = createHash('sha256');
  const part = (value: Uint8Array | string) => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    hash.update(`${typeof value === 'string' ? 's' : 'b'}${bytes.byteLength}:`).update(bytes);
  };
  part(`${trustId}|${input.allowSimulated}|${input.crlGraceSeconds}|${input.product ?? ''}`);
  part(input.evidence);
  part(input.endorsement ?? '');
  for (const crl of input.crls ?? []) part(crl);
  return hash.digest('base64');
}

/** The verification remembered under `key`, if `at` (ms) lies within its window. */
function recall(store: Store, key: string, at: number): Remembered | undefined {
  const found = store.entries.get(key);
  if (found === undefined) return undefined;
  const { from, until } = found.verified.window;
  if (at < from || at > until) return undefined;
  store.hits += 1;
  return found;
}

function remember(store: Store, key: string, value: Remembered): void {
  if (store.entries.size >= store.max) store.entries.clear();
  store.entries.set(key, value);
}

/**
 * The verification remembered under `key` for `at` (ms), else the one `verify`
 * makes, remembered when it succeeds. While a verification of `key` runs,
 * others wait for it and use it if it holds at their `at`; when it failed or
 * does not hold then, each verifies for itself (a failure is never shared).
 */
export async function recallOrVerify(
  memo: AppraisalMemo,
  key: string,
  at: number,
  verify: () => Promise<Remembered>,
): Promise<Remembered> {
  const store = stores.get(memo);
  if (store === undefined) return verify();
  const running = store.running.get(key);
  if (running !== undefined) await running.catch(() => undefined);
  const found = recall(store, key, at);
  if (found !== undefined) return found;
  const verifying = verify();
  store.running.set(key, verifying);
  try {
    const verified = await verifying;
    remember(store, key, verified);
    return verified;
  } finally {
    if (store.running.get(key) === verifying) store.running.delete(key);
  }
}
