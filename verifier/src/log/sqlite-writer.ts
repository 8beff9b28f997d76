/**
 * The SQLite log's appends, in a thread of their own. A durable commit
 * (synchronous=FULL: an fsync) blocks its thread for milliseconds; here it
 * blocks this one, so the verifier's event loop keeps reading requests,
 * taking verdicts and signing while a group is made durable, and the next
 * group fills meanwhile. The thread holds one write connection per log file;
 * the main thread keeps its own connection for reads (WAL lets both work).
 */
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ReceiptRecord } from './receipt-log.js';
import { perfectNodeReader, statementIndexer } from './sqlite-tables.js';
import { nodesCompletedByAppend, type NodeRow } from './tree-nodes.js';

export type WriterRequest =
  | {
      readonly id: number;
      readonly kind: 'append';
      readonly path: string;
      readonly first: number;
      readonly records: readonly ReceiptRecord[];
    }
  | { readonly id: number; readonly kind: 'close'; readonly path: string };

export type WriterReply =
  | { readonly id: number; readonly nodes: readonly NodeRow[] }
  | {
      readonly id: number;
      readonly error: {
        readonly code?: string;
        readonly message: string;
        /** The thread itself failed (not SQLite): what it held was not written. */
        readonly threadFailed?: boolean;
      };
    };

interface Writer {
  readonly db: Database.Database;
  readonly write: (first: number, records: readonly ReceiptRecord[]) => NodeRow[];
}

const writers = new Map<string, Writer>();

function openWriter(path: string): Writer {
  const db = new Database(path);
  // Per connection: every commit of this one is durable before it returns.
  db.pragma('synchronous = FULL');
  const insertLeaf = db.prepare<[number, Uint8Array]>(
    'INSERT INTO leaves (idx, data) VALUES (?, ?)',
  );
  const insertReceipt = db.prepare<[string, number, string]>(
    'INSERT INTO receipts (id, idx, jws) VALUES (?, ?, ?)',
  );
  const insertNode = db.prepare<[number, number, Uint8Array]>(
    'INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)',
  );
  const index = statementIndexer(db);
  const perfect = perfectNodeReader(db);
  const write = db.transaction((first: number, records: readonly ReceiptRecord[]) => {
    records.forEach((record, offset) => {
      insertLeaf.run(first + offset, record.entry);
      insertReceipt.run(record.id, first + offset, record.receipt);
      index(first + offset, record.entry);
    });
    const rows = nodesCompletedByAppend(
      first,
      records.map((record) => record.entry),
      perfect,
    );
    for (const [level, index, hash] of rows) insertNode.run(level, index, hash);
    return rows;
  });
  return { db, write };
}

function handle(request: WriterRequest): WriterReply {
  try {
    if (request.kind === 'close') {
      writers.get(request.path)?.db.close();
      writers.delete(request.path);
      return { id: request.id, nodes: [] };
    }
    let writer = writers.get(request.path);
    if (writer === undefined) {
      writer = openWriter(request.path);
      writers.set(request.path, writer);
    }
    return { id: request.id, nodes: writer.write(request.first, request.records) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      id: request.id,
      error: {
        ...(typeof code === 'string' ? { code } : {}),
        message: error instanceof Error ? error.message : String(error),
      },
    };
  }
}

parentPort?.on('message', (request: WriterRequest) => {
  parentPort?.postMessage(handle(request));
});
