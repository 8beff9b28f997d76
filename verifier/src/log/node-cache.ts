/**
 * Roots and proofs from stored subtree hashes kept in memory. A stored node
 * never changes once written, so caching it is always safe, even when other
 * replicas append to the same PostgreSQL log: a node this process has not seen
 * is a miss and is read from the store. Nodes are held in chunks of 256
 * consecutive hashes of one level (a tlog tile's width), read with one query,
 * and evicted least recently used past a byte budget. The nodes this
 * process's own appends complete are added as they are made durable, so the
 * log's right edge is not read back after every commit.
 */
import { UpstreamError } from '@veritee/attestations';
import {
  consistencyProofFrom,
  inclusionProofFrom,
  subtreeHashFrom,
} from '@veritee/attestations/merkle';
import type { ReceiptLog } from './receipt-log.js';
import type { NodeRow } from './tree-nodes.js';

const CHUNK = 256;
const HASH = 32;
/** Default memory for cached nodes: every node of a log of about 1,000,000 entries. */
export const DEFAULT_NODE_CACHE_BYTES = 64 * 1024 * 1024;

interface Chunk {
  /** Room for {@link CHUNK} hashes. */
  readonly hashes: Uint8Array;
  /** How many leading hashes are present: a chunk at the log's right edge grows. */
  count: number;
  /** When it was last read (a counter of computations), for eviction. */
  used: number;
}

/** Right-edge hashes kept: a proof reads at most 2 log2(size) of them. */
const MAX_EDGES = 4096;

/** Keys a chunk by level and position (levels stay below 64, chunk indexes below 2^46). */
const chunkKey = (level: number, chunk: number) => chunk * 64 + level;

export interface NodeCache {
  /** Chunks held now, for tests and metrics. */
  readonly chunks: () => number;
  /** Fills the cache for a log of `size` entries, as far as the budget allows. */
  readonly warm: (size: number) => Promise<void>;
}

/**
 * The log with `root`, `inclusionProof` and `consistencyProof` answered from
 * cached nodes; everything else passes through to `log`.
 * @param options.maxBytes memory budget for cached hashes; default {@link DEFAULT_NODE_CACHE_BYTES}
 */
export function withNodeCache(
  log: ReceiptLog,
  options: { readonly maxBytes?: number | undefined } = {},
): ReceiptLog & NodeCache {
  const capacity = Math.max(
    1,
    Math.floor((options.maxBytes ?? DEFAULT_NODE_CACHE_BYTES) / (CHUNK * HASH)),
  );
  const chunks = new Map<number, Chunk>();
  // Hashes of ranges that are not one stored node (the right edges of tree sizes asked about).
  const edges = new Map<string, Uint8Array>();
  let clock = 0;

  /** Caches a chunk; past the budget, drops the least recently read (a scan, only when full). */
  const remember = (key: number, chunk: Chunk) => {
    chunks.set(key, chunk);
    while (chunks.size > capacity) {
      let oldest: number | undefined;
      let when = Infinity;
      for (const [candidate, { used }] of chunks)
        if (used < when && candidate !== key) [oldest, when] = [candidate, used];
      if (oldest === undefined) return;
      chunks.delete(oldest);
    }
  };

  const load = async (level: number, chunk: number): Promise<Chunk> => {
    const hashes = await log.hashes(level, chunk * CHUNK, CHUNK);
    if (hashes.some((hash) => hash.byteLength !== HASH))
      throw new UpstreamError('LOG_CORRUPT', `log holds a malformed node at level ${level}`);
    const joined = new Uint8Array(CHUNK * HASH);
    hashes.forEach((hash, offset) => joined.set(hash, offset * HASH));
    return { hashes: joined, count: hashes.length, used: clock };
  };

  /**
   * Runs `compute` on cached nodes. A first pass notes the chunks it misses
   * (answering placeholders); they are read, and the pass is run again. The
   * nodes a computation reads depend only on sizes and indexes, so the second
   * pass finds them all, unless the store lacks one, which is corruption.
   * The chunks a computation reads are held for it, whatever the cache evicts.
   */
  const withNodes = async <T>(
    compute: (subtree: (start: number, end: number) => Uint8Array) => T,
  ): Promise<T> => {
    const now = ++clock;
    // Chunks read from the store for this computation: held for it, whatever the cache evicts.
    const loaded = new Map<number, Chunk>();
    const missing = new Map<number, [level: number, chunk: number]>();
    const placeholder = new Uint8Array(HASH);
    let guesses = 0;
    const node = (level: number, index: number): Uint8Array => {
      const key = chunkKey(level, Math.floor(index / CHUNK));
      const offset = index % CHUNK;
      const chunk = loaded.get(key) ?? chunks.get(key);
      if (chunk !== undefined && offset < chunk.count) {
        chunk.used = now;
        // A copy: what callers get is theirs to keep, and cannot reach the cache.
        return chunk.hashes.slice(offset * HASH, (offset + 1) * HASH);
      }
      missing.set(key, [level, Math.floor(index / CHUNK)]);
      guesses += 1;
      return placeholder;
    };
    const subtree = (start: number, end: number): Uint8Array => {
      const size = end - start;
      if ((size & (size - 1)) === 0 && start % size === 0) return subtreeHashFrom(node, start, end);
      // A range that is not one node lies at the right edge of some tree size: kept once computed.
      const key = `${start}:${end}`;
      const known = edges.get(key);
      if (known !== undefined) return known.slice();
      const before = guesses;
      const hash = subtreeHashFrom(node, start, end);
      if (guesses === before) {
        edges.set(key, hash.slice());
        if (edges.size > MAX_EDGES) edges.delete(edges.keys().next().value as string);
      }
      return hash;
    };
    const run = () => compute(subtree);
    const first = run();
    if (missing.size === 0) return first;
    // Chunks the first pass read may be evicted while these load: they are read again if so.
    for (let round = 0; ; round++) {
      if (round === 2) {
        const [level, chunk] = [...missing.values()][0] ?? [];
        throw new UpstreamError(
          'LOG_CORRUPT',
          `log lacks a node at level ${level} in chunk ${chunk}`,
        );
      }
      const reading = [...missing];
      missing.clear();
      for (const [key, chunk] of await Promise.all(
        reading.map(async ([key, [level, chunk]]) => [key, await load(level, chunk)] as const),
      )) {
        loaded.set(key, chunk);
        remember(key, chunk);
      }
      for (const [key, chunk] of chunks) if (chunk.used === now) loaded.set(key, chunk);
      const again = run();
      if (missing.size === 0) return again;
    }
  };

  /**
   * Reads stored nodes into the cache, highest levels first (every proof
   * reads them) and within a level newest first (proofs of recent receipts
   * are the ones asked for), until the budget is full or `size` is covered.
   */
  const warm = async (size: number): Promise<void> => {
    for (let level = Math.floor(Math.log2(Math.max(size, 1))); level >= 0; level--) {
      const nodes = Math.floor(size / 2 ** level);
      for (let chunk = Math.ceil(nodes / CHUNK) - 1; chunk >= 0; chunk--) {
        if (chunks.size >= capacity) return;
        const key = chunkKey(level, chunk);
        if ((chunks.get(key)?.count ?? 0) < Math.min(CHUNK, nodes - chunk * CHUNK))
          remember(key, await load(level, chunk));
      }
    }
  };

  /**
   * Extends cached chunks with nodes just made durable. Only a node right
   * after a chunk's last one is added (another replica's appends between
   * leave a gap, read from the store when asked); a node that opens a chunk
   * starts one.
   */
  const keep = (nodes: readonly NodeRow[]) => {
    for (const [level, index, hash] of nodes) {
      const key = chunkKey(level, Math.floor(index / CHUNK));
      const offset = index % CHUNK;
      let chunk = chunks.get(key);
      if (chunk === undefined && offset === 0) {
        chunk = { hashes: new Uint8Array(CHUNK * HASH), count: 0, used: clock };
        remember(key, chunk);
      }
      if (chunk === undefined || chunk.count !== offset || hash.byteLength !== HASH) continue;
      chunk.hashes.set(hash, offset * HASH);
      chunk.count = offset + 1;
    }
  };

  return {
    ...log,
    async append(count, seal) {
      const result = await log.append(count, seal);
      keep(result.nodes);
      return result;
    },
    chunks: () => chunks.size,
    warm,
    root: (size) => withNodes((subtree) => subtree(0, size)),
    inclusionProof: (index, size) =>
      withNodes((subtree) => inclusionProofFrom(subtree, index, size)),
    consistencyProof: (first, second) =>
      withNodes((subtree) => consistencyProofFrom(subtree, first, second)),
  };
}
