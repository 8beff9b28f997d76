/**
 * The append-only receipt log, as the verifier's services see it, whatever
 * stores it. Entries are RFC 9162 leaves; every completed perfect subtree hash
 * is stored beside them, so roots and proofs cost O(log² n) lookups at any size.
 */
import { ConfigError } from '@veritee/attestations';
import type { FoundStatement, StatementQuery } from './statement-index.js';
import type { NodeRow } from './tree-nodes.js';

/**
 * The version of the stored log's schema. Each store records it when it creates
 * the schema; a change that old code could misread raises it, so a store
 * written by newer code is refused rather than misread.
 */
export const LOG_SCHEMA_VERSION = 1;

/** @throws ConfigError LOG_SCHEMA_UNSUPPORTED for a schema newer than this code knows */
export function assertSchemaVersion(found: number, where: string): void {
  if (found > LOG_SCHEMA_VERSION)
    throw new ConfigError(
      'LOG_SCHEMA_UNSUPPORTED',
      `${where} holds log schema ${found}; this verifier knows schema ${LOG_SCHEMA_VERSION} and older`,
    );
}

export interface LogEntry {
  readonly index: number;
  readonly leafHash: Uint8Array;
}

/** What an append made durable. */
export interface AppendResult {
  /** The appended entries, in order. */
  readonly entries: readonly LogEntry[];
  /**
   * Every perfect subtree the append completed, leaves included: stored nodes
   * never change, so a node cache keeps them without reading them back.
   */
  readonly nodes: readonly NodeRow[];
}

/** A log entry and the signed receipt it belongs to, stored in the same transaction. */
export interface ReceiptRecord {
  readonly entry: Uint8Array;
  readonly id: string;
  readonly receipt: string;
}

export interface ReceiptLog {
  /** What stores it, for start-up summaries: `SQLite <path>` or `PostgreSQL <host>`. */
  readonly description: string;
  size(): Promise<number>;
  /**
   * Appends `count` records at the end of the log, durably and atomically.
   * `seal(first)` is called once the position of the first is fixed (under the
   * log's append lock, so no other writer can take it) and returns the records,
   * whose receipts may name their positions. Resolves once they are durable.
   */
  append(
    count: number,
    seal: (first: number) => Promise<readonly ReceiptRecord[]>,
  ): Promise<AppendResult>;
  entry(index: number): Promise<Uint8Array | undefined>;
  /** Entries `start` .. `start + count - 1`, as many of them as the log holds (for entry bundles). */
  entries(start: number, count: number): Promise<Uint8Array[]>;
  /**
   * Stored hashes of perfect subtrees of 2^`level` leaves, `start` ..
   * `start + count - 1` at that level, as many as the log holds (for tiles).
   */
  hashes(level: number, start: number, count: number): Promise<Uint8Array[]>;
  /** The signed receipt (compact JWS) with this id. */
  receipt(id: string): Promise<string | undefined>;
  /** The statements at `start` .. `start + count - 1` that the log holds, in order. */
  statements(start: number, count: number): Promise<FoundStatement[]>;
  /** Statements matching every filter of `query`, newest first, at most `query.limit`. */
  searchStatements(query: StatementQuery): Promise<FoundStatement[]>;
  /** Every stored statement whose id starts with `prefix`, in log order (policy changes use this). */
  findReceipts(prefix: string): Promise<Array<{ id: string; index: number; receipt: string }>>;
  /** MTH of the first `size` leaves. */
  root(size: number): Promise<Uint8Array>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(first: number, second: number): Promise<Uint8Array[]>;
  close(): Promise<void>;
}
