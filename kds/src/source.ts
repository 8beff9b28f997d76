/**
 * A collateral source backed by AMD KDS. AMD limits requests per address and
 * answers 429 when pushed, so a fleet must ask it as little as possible:
 *
 * - every answer is kept in a store (a directory laid out like the KDS paths,
 *   or a table the verifier's replicas share) and served from it after: a VCEK
 *   for a chip and TCB never changes, a chain changes with AMD's roots, a CRL
 *   is fetched again once past its nextUpdate;
 * - one fetch per path is in flight at a time (single flight): fifty
 *   appraisals of one chip make one request;
 * - new VCEKs are asked for at most `maxVcekFetchesPerMinute` a minute, so
 *   evidence naming made-up chips cannot spend the verifier's standing with
 *   AMD;
 * - a 429 or 503 is retried after its Retry-After (or an exponential backoff),
 *   a bounded number of times;
 * - every answer is kept in memory while it cannot have changed (a VCEK for
 *   good, a CRL until its nextUpdate), so an appraisal reads no file or
 *   table; a miss (404), a failure or a stale CRL for a minute, so a burst
 *   does not repeat it. The memory is bounded.
 *
 * Offline, the store alone answers.
 */
import { fetchBounded } from '@veritee/http';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import { parseCrl, type CollateralSource } from '@veritee/attestations/evidence';
import { type SnpProduct } from '@veritee/attestations/snp';
import { certChainPath, crlPath, KDS_BASE_URL, vcekPath, type KdsKeyKind } from './urls.js';

/** Where fetched collateral is kept, by KDS path. */
export interface CollateralStore {
  get(path: string): Promise<Uint8Array | undefined>;
  put(path: string, bytes: Uint8Array): Promise<void>;
}

export interface KdsSourceOptions {
  /** Directory to read cached collateral from and write fetched collateral to. Unset: no disk cache. */
  readonly cacheDir?: string | undefined;
  /** A store other than a directory (the verifier's shared table); wins over `cacheDir`. */
  readonly store?: CollateralStore | undefined;
  /** Never use the network; answer from the store only. Default false. */
  readonly offline?: boolean | undefined;
  /** Base URL of the KDS. Default https://kdsintf.amd.com; only https is accepted unless `allowInsecureBaseUrl`. */
  readonly baseUrl?: string | undefined;
  /** Permit an http base URL (local stand-ins in tests). Default false. */
  readonly allowInsecureBaseUrl?: boolean | undefined;
  /** Time limit per request. Default 10 000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Retries of a 429 or 503 answer. Default 3. */
  readonly maxRetries?: number | undefined;
  /** Longest wait before a retry, whatever Retry-After says. Default 30 s. */
  readonly maxRetryDelayMs?: number | undefined;
  /**
   * New VCEKs asked of KDS in any minute, at most. Evidence names its chip, so
   * a stranger sending reports of made-up chips would otherwise spend the
   * verifier's standing with AMD (which throttles by address) and lock out
   * real chips; past the budget a new VCEK is refused (KDS_BUDGET_SPENT) until
   * the minute has passed. Stored VCEKs, chains and CRLs are not counted. Default 60.
   */
  readonly maxVcekFetchesPerMinute?: number | undefined;
  /** How long a miss or a failure is remembered. Default 60 s. */
  readonly negativeTtlMs?: number | undefined;
  /** Clock, to decide whether a cached CRL is stale. Default `() => new Date()`. */
  readonly clock?: (() => Date) | undefined;
  /** Waits `ms` (tests pass a fake). Default a timer. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** HTTP client. Default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
}

/** What a KDS source offers beyond the appraisal's collateral: the products' chains. */
export interface KdsSource extends CollateralSource {
  /** The ASK (or ASVK) and ARK of a product, PEM, as KDS serves them. */
  chain(product: SnpProduct, kind: KdsKeyKind): Promise<Uint8Array | undefined>;
}

/** Largest KDS answer accepted: a VCEK is ~1.4 KiB, a CRL a few KiB, a chain ~4 KiB. */
const MAX_RESPONSE_BYTES = 256 * 1024;
/** First wait of the exponential backoff when an answer gives no Retry-After. */
const BASE_RETRY_DELAY_MS = 1_000;
/** Answers kept in memory before the memory is cleared: a fleet's chips and TCBs, and six CRLs. */
const MAX_KNOWN = 4096;

/**
 * What the source last answered for a path, kept until `until` (ms): for good
 * (a VCEK, a chain), until its nextUpdate (a current CRL), or `negativeTtlMs`
 * for a miss, a failure or a stale CRL, after which the store is read and
 * KDS asked again (another replica may have stored a fresh one meanwhile).
 */
interface Known {
  readonly bytes: Uint8Array | undefined;
  readonly error?: UpstreamError;
  readonly until: number;
}

/** A directory laid out like the KDS paths. */
export function directoryStore(dir: string): CollateralStore {
  return {
    async get(path) {
      try {
        return new Uint8Array(await readFile(cacheFile(dir, path)));
      } catch {
        return undefined;
      }
    },
    async put(path, bytes) {
      const file = cacheFile(dir, path);
      await mkdir(dirname(file), { recursive: true });
      // Write then rename, so a reader never sees half a certificate.
      const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temporary, bytes);
      await rename(temporary, file);
    },
  };
}

/** Seconds or an HTTP date, as Retry-After carries them (RFC 9110, 10.2.3); undefined when neither. */
function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

/**
 * @throws ConfigError KDS_CONFIG_INVALID for an offline source without a store or a non-https base URL
 */
export function createKdsSource(options: KdsSourceOptions = {}): KdsSource {
  const baseUrl = options.baseUrl ?? KDS_BASE_URL;
  if (!baseUrl.startsWith('https://') && options.allowInsecureBaseUrl !== true) {
    throw new ConfigError('KDS_CONFIG_INVALID', 'KDS base URL must be https');
  }
  const store =
    options.store ??
    (options.cacheDir === undefined ? undefined : directoryStore(options.cacheDir));
  if (options.offline === true && store === undefined) {
    throw new ConfigError('KDS_CONFIG_INVALID', 'an offline KDS source needs a cache directory');
  }
  const clock = options.clock ?? (() => new Date());
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRetries ?? 3;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const negativeTtlMs = options.negativeTtlMs ?? 60_000;

  const maxVcekFetches = options.maxVcekFetchesPerMinute ?? 60;
  const inFlight = new Map<string, Promise<Known>>();
  const known = new Map<string, Known>();
  /** When each VCEK download of the last minute started (ms), oldest first. */
  const vcekFetches: number[] = [];

  /** Counts a new VCEK download against the minute's budget. */
  function spendVcekFetch(): void {
    const now = clock().getTime();
    while ((vcekFetches[0] ?? Infinity) <= now - 60_000) vcekFetches.shift();
    if (vcekFetches.length >= maxVcekFetches)
      throw new UpstreamError(
        'KDS_BUDGET_SPENT',
        `${maxVcekFetches} new VCEKs were asked of AMD KDS in the last minute; retry later`,
      );
    vcekFetches.push(now);
  }

  /** What is known of `path` now, if it is still good. */
  function recall(path: string): Known | undefined {
    const entry = known.get(path);
    return entry !== undefined && entry.until >= clock().getTime() ? entry : undefined;
  }

  /** Keeps the answer for `path` until `until` (ms); unset, for `negativeTtlMs`. */
  function learn(path: string, answer: Omit<Known, 'until'>, until?: number): Known {
    const entry = { ...answer, until: until ?? clock().getTime() + negativeTtlMs };
    if (known.size >= MAX_KNOWN) known.clear();
    known.set(path, entry);
    return entry;
  }

  async function download(path: string): Promise<Uint8Array | undefined> {
    const what = path.split('?')[0] ?? '';
    for (let attempt = 0; ; attempt++) {
      const response = await fetchBounded(new URL(path, baseUrl), {
        errorCode: 'KDS_UNAVAILABLE',
        timeoutMs,
        maxBytes: MAX_RESPONSE_BYTES,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
      if (response.status === 404) return undefined;
      if ((response.status === 429 || response.status === 503) && attempt < maxRetries) {
        const told = retryAfterMs(response.headers.get('retry-after'), clock());
        await sleep(Math.min(maxRetryDelayMs, told ?? BASE_RETRY_DELAY_MS * 2 ** attempt));
        continue;
      }
      if (!response.ok)
        throw new UpstreamError(
          'KDS_UNAVAILABLE',
          `AMD KDS answered ${response.status} for ${what}`,
        );
      if (response.body.byteLength === 0)
        throw new UpstreamError('KDS_UNAVAILABLE', `AMD KDS answered an empty body for ${what}`);
      await store?.put(path, response.body);
      return response.body;
    }
  }

  /**
   * What is known of `path`, or else what `resolve` finds: one resolution per
   * path at a time (single flight), so fifty appraisals of one chip read the
   * store once and make one request.
   */
  function answer(path: string, resolve: (path: string) => Promise<Known>): Promise<Known> {
    const now = recall(path);
    if (now !== undefined) return Promise.resolve(now);
    let pending = inFlight.get(path);
    if (pending === undefined) {
      pending = resolve(path).finally(() => inFlight.delete(path));
      inFlight.set(path, pending);
    }
    return pending;
  }

  /**
   * What never changes under its path (a VCEK, a chain): from the store, else
   * from KDS; `budgeted` downloads count against the VCEK budget.
   */
  async function lookUp(path: string, budgeted: boolean): Promise<Uint8Array | undefined> {
    const { bytes, error } = await answer(path, (unknown) => resolve(unknown, budgeted));
    if (error !== undefined) throw error;
    return bytes;
  }

  async function resolve(path: string, budgeted: boolean): Promise<Known> {
    const hit = await store?.get(path);
    if (hit !== undefined) return learn(path, { bytes: hit }, Infinity);
    if (options.offline === true) return learn(path, { bytes: undefined });
    // Not learned: the refusal is ours, not an answer of KDS.
    if (budgeted) spendVcekFetch();
    try {
      const bytes = await download(path);
      return learn(path, { bytes }, bytes === undefined ? undefined : Infinity);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      return learn(path, { bytes: undefined, error });
    }
  }

  /** A CRL while current (until its nextUpdate); past it, a fresh one from KDS, else the stale one. */
  async function resolveCrl(path: string): Promise<Known> {
    const held = await store?.get(path);
    const heldUntil = held === undefined ? -Infinity : currentUntil(held);
    if (heldUntil >= clock().getTime()) return learn(path, { bytes: held }, heldUntil);
    if (options.offline === true) return learn(path, { bytes: held });
    try {
      const fetched = await download(path);
      if (fetched === undefined) return learn(path, { bytes: held });
      const until = currentUntil(fetched);
      return learn(path, { bytes: fetched }, until >= clock().getTime() ? until : undefined);
    } catch {
      // No CRL is a verdict the policy judges (POLICY_REVOCATION_UNCHECKED), not an error.
      return learn(path, { bytes: held });
    }
  }

  return {
    vcek: (product, chipId, reportedTcb) => lookUp(vcekPath(product, chipId, reportedTcb), true),
    chain: (product, kind) => lookUp(certChainPath(product, kind), false),
    async crl(product, kind) {
      const path = crlPath(product, kind);
      return (await answer(path, resolveCrl)).bytes;
    },
  };
}

/** Until when (ms) a CRL is current: its nextUpdate, for good without one, never when it does not parse. */
function currentUntil(crl: Uint8Array): number {
  try {
    return parseCrl(crl).nextUpdate?.getTime() ?? Infinity;
  } catch {
    return -Infinity;
  }
}

/** The cache file of a KDS path: the path itself, with the query folded into the name. */
export function cacheFile(cacheDir: string, path: string): string {
  const [pathname = '', query] = path.split('?');
  const safe = pathname.replace(/[^A-Za-z0-9/_-]/g, '_').replace(/^\/+/, '');
  return join(
    cacheDir,
    query === undefined ? safe : `${safe}@${query.replace(/[^A-Za-z0-9=&]/g, '_')}`,
  );
}
