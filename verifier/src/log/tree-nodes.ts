/**
 * Perfect-subtree bookkeeping shared by the log stores: which nodes an append
 * completes, and which stored nodes a root or proof will read (the nodes read
 * depend only on sizes and indexes, never on hash values, so a store can fetch
 * them all in one query before computing).
 */
import { leafHash, nodeHash } from '@veritee/attestations/merkle';
import type { AppendResult } from './receipt-log.js';

export type NodeKey = readonly [level: number, index: number];
export type NodeRow = readonly [level: number, index: number, hash: Uint8Array];

const key = (level: number, index: number) => `${level}/${index}`;

/** Stored nodes (left siblings of leaves first..first+count-1 that lie before `first`) an append reads. */
export function nodesReadByAppend(first: number, count: number): NodeKey[] {
  const keys: NodeKey[] = [];
  for (let index = first; index < first + count; index++) {
    for (let level = 0, position = index; position % 2 === 1; level++) {
      // The left sibling covers leaves [(position - 1) * 2^level, position * 2^level).
      if (position * 2 ** level <= first) keys.push([level, position - 1]);
      position = (position - 1) / 2;
    }
  }
  return keys;
}

/**
 * The nodes appending `entries` at `first` completes, leaves included.
 * `stored` gives the nodes {@link nodesReadByAppend} named.
 */
export function nodesCompletedByAppend(
  first: number,
  entries: readonly Uint8Array[],
  stored: (level: number, index: number) => Uint8Array,
): NodeRow[] {
  const fresh = new Map<string, Uint8Array>();
  const read = (level: number, index: number) =>
    fresh.get(key(level, index)) ?? stored(level, index);
  const rows: NodeRow[] = [];
  entries.forEach((entry, offset) => {
    const index = first + offset;
    let current = leafHash(entry);
    let level = 0;
    let position = index;
    fresh.set(key(level, position), current);
    rows.push([level, position, current]);
    // Each leaf that completes a pair completes a parent, up the tree.
    while (position % 2 === 1) {
      current = nodeHash(read(level, position - 1), current);
      level += 1;
      position = (position - 1) / 2;
      fresh.set(key(level, position), current);
      rows.push([level, position, current]);
    }
  });
  return rows;
}

/** An append's result from the nodes it completed (its leaves are the level-0 ones). */
export function appendResult(nodes: readonly NodeRow[]): AppendResult {
  const entries = nodes
    .filter(([level]) => level === 0)
    .map(([, index, hash]) => ({ index, leafHash: hash }));
  return { entries, nodes };
}

/** The nodes `compute` reads, found by running it once on placeholder hashes. */
export function nodesRead(
  compute: (perfect: (level: number, index: number) => Uint8Array) => unknown,
): NodeKey[] {
  const keys = new Map<string, NodeKey>();
  const placeholder = new Uint8Array(32);
  compute((level, index) => {
    keys.set(key(level, index), [level, index]);
    return placeholder;
  });
  return [...keys.values()];
}

/** Runs `compute` over nodes fetched in one batch. */
export async function withStoredNodes<T>(
  compute: (perfect: (level: number, index: number) => Uint8Array) => T,
  fetch: (keys: readonly NodeKey[]) => Promise<readonly NodeRow[]>,
  missing: (level: number, index: number) => never,
): Promise<T> {
  const rows = await fetch(nodesRead(compute));
  const nodes = new Map(rows.map(([level, index, hash]) => [key(level, index), hash]));
  return compute((level, index) => nodes.get(key(level, index)) ?? missing(level, index));
}
