/**
 * A collateral source backed by AMD KDS: fetches over HTTPS when online, keeps
 * every answer in a cache directory laid out like the KDS paths, and works
 * offline from such a directory alone. A CRL past its nextUpdate is fetched
 * again when online.
 */
import { fetchBounded } from '@veritee/http';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import { parseCrl, type CollateralSource } from '@veritee/attestations/evidence';
import { type SnpProduct } from '@veritee/attestations/snp';
import { crlPath, KDS_BASE_URL, vcekPath } from './urls.js';

export interface KdsSourceOptions {
  /** Directory to read cached collateral from and write fetched collateral to. Unset: no disk cache. */
  readonly cacheDir?: string | undefined;
  /** Never use the network; answer from `cacheDir` only. Default false. */
  readonly offline?: boolean | undefined;
  /** Base URL of the KDS. Default https://kdsintf.amd.com; only https is accepted unless `allowInsecureBaseUrl`. */
  readonly baseUrl?: string | undefined;
  /** Permit an http base URL (local stand-ins in tests). Default false. */
  readonly allowInsecureBaseUrl?: boolean | undefined;
  /** Time limit per request. Default 10 000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Clock, to decide whether a cached CRL is stale. Default `() => new Date()`. */
  readonly clock?: (() => Date) | undefined;
  /** HTTP client. Default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
}

/** Largest KDS answer accepted: a VCEK is ~1.4 KiB, a CRL a few KiB. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * @throws ConfigError KDS_CONFIG_INVALID for an offline source without a cache directory or a non-https base URL
 */
export function createKdsSource(options: KdsSourceOptions = {}): CollateralSource {
  const baseUrl = options.baseUrl ?? KDS_BASE_URL;
  if (!baseUrl.startsWith('https://') && options.allowInsecureBaseUrl !== true) {
    throw new ConfigError('KDS_CONFIG_INVALID', 'KDS base URL must be https');
  }
  if (options.offline === true && options.cacheDir === undefined) {
    throw new ConfigError('KDS_CONFIG_INVALID', 'an offline KDS source needs a cache directory');
  }
  const clock = options.clock ?? (() => new Date());
  const httpFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function cached(path: string): Promise<Uint8Array | undefined> {
    if (options.cacheDir === undefined) return undefined;
    try {
      return new Uint8Array(await readFile(cacheFile(options.cacheDir, path)));
    } catch {
      return undefined;
    }
  }

  async function store(path: string, bytes: Uint8Array): Promise<void> {
    if (options.cacheDir === undefined) return;
    const file = cacheFile(options.cacheDir, path);
    await mkdir(dirname(file), { recursive: true });
    // Write then rename, so a reader never sees half a certificate.
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  }

  async function download(path: string): Promise<Uint8Array | undefined> {
    const response = await fetchBounded(new URL(path, baseUrl), {
      errorCode: 'KDS_UNAVAILABLE',
      timeoutMs,
      maxBytes: MAX_RESPONSE_BYTES,
      fetch: httpFetch,
    });
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw new UpstreamError(
        'KDS_UNAVAILABLE',
        `AMD KDS answered ${response.status} for ${path.split('?')[0] ?? ''}`,
      );
    if (response.body.byteLength === 0)
      throw new UpstreamError('KDS_UNAVAILABLE', 'AMD KDS answered an empty body');
    await store(path, response.body);
    return response.body;
  }

  return {
    async vcek(product: SnpProduct, chipId: Uint8Array, reportedTcb: bigint) {
      const path = vcekPath(product, chipId, reportedTcb);
      // A VCEK for a chip and TCB never changes: the cache is always good.
      const hit = await cached(path);
      if (hit !== undefined || options.offline === true) return hit;
      return download(path);
    },
    async crl(product: SnpProduct, kind: 'VCEK' | 'VLEK') {
      const path = crlPath(product, kind);
      const hit = await cached(path);
      if (options.offline === true || (hit !== undefined && !isStale(hit, clock()))) return hit;
      try {
        return (await download(path)) ?? hit;
      } catch {
        // No CRL is a verdict the policy judges (POLICY_REVOCATION_UNCHECKED), not an error.
        return hit;
      }
    },
  };
}

function isStale(crl: Uint8Array, now: Date): boolean {
  try {
    const nextUpdate = parseCrl(crl).nextUpdate;
    return nextUpdate !== undefined && nextUpdate.getTime() < now.getTime();
  } catch {
    return true;
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
