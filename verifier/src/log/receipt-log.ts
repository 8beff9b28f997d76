/**
 * The append-only receipt log, as the verifier's services see it, whatever
 * stores it. Entries are RFC 9162 leaves; every completed perfect subtree hash
 * is stored beside them, so roots and proofs cost O(log² n) lookups at any size.
 */
export interface LogEntry {
  readonly index: number;
  readonly leafHash: Uint8Array;
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
  ): Promise<LogEntry[]>;
  entry(index: number): Promise<Uint8Array | undefined>;
  /** The signed receipt (compact JWS) with this id. */
  receipt(id: string): Promise<string | undefined>;
  /** Every stored statement whose id starts with `prefix`, in log order (policy changes use this). */
  findReceipts(prefix: string): Promise<Array<{ id: string; index: number; receipt: string }>>;
  /** MTH of the first `size` leaves. */
  root(size: number): Promise<Uint8Array>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(first: number, second: number): Promise<Uint8Array[]>;
  close(): Promise<void>;
}
