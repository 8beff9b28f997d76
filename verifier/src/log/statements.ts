/**
 * The one way anything is signed into the log: receipts, policy changes and
 * key releases are signed log statements, appended here. Statements arriving
 * while a write is in flight are committed together with the next one, so a
 * durable write (an fsync or a database commit) is paid per group, not per
 * statement; each statement is signed naming the position it is given, and
 * resolves only once durable.
 */
import {
  signedStatementClaims,
  statementEntryBytes,
  statementHeaderType,
  type LogStatement,
} from '@veritee/attestations/receipt';
import type { Signer } from '../signing/signer.js';
import type { ReceiptLog, ReceiptRecord } from './receipt-log.js';

/** Most statements committed in one write. */
const MAX_GROUP = 256;

export interface Appended {
  readonly index: number;
  /** The signed statement (compact JWS). */
  readonly statement: string;
}

interface Pending {
  readonly entry: LogStatement;
  readonly resolve: (appended: Appended) => void;
  readonly reject: (error: unknown) => void;
}

export function createStatementLog(options: {
  readonly log: ReceiptLog;
  readonly signer: Signer;
  /** Told the size of each group made durable by one write. */
  readonly onCommit?: ((size: number) => void) | undefined;
}) {
  const { log, signer } = options;

  /** Signs `entries` for the positions from `first` on, as the records the log stores. */
  async function seal(first: number, entries: readonly LogStatement[]): Promise<ReceiptRecord[]> {
    return Promise.all(
      entries.map(async (statement, offset) => {
        const entry = statementEntryBytes(statement);
        return {
          entry,
          id: statement.jti,
          receipt: await signer.sign(
            signedStatementClaims(statement, first + offset, entry),
            statementHeaderType(statement.typ),
          ),
        };
      }),
    );
  }

  const pending: Pending[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (pending.length > 0) {
        const group = pending.splice(0, MAX_GROUP);
        try {
          let records: ReceiptRecord[] = [];
          const written = await log.append(group.length, async (first) => {
            records = await seal(
              first,
              group.map(({ entry }) => entry),
            );
            return records;
          });
          options.onCommit?.(group.length);
          group.forEach(({ resolve }, offset) =>
            resolve({
              index: written.entries[offset]?.index ?? -1,
              statement: records[offset]?.receipt ?? '',
            }),
          );
        } catch (error) {
          for (const { reject } of group) reject(error);
        }
      }
    } finally {
      draining = false;
    }
  }

  return {
    /** Appends a statement, grouped with whatever else is waiting; resolves once durable. */
    append(entry: LogStatement): Promise<Appended> {
      return new Promise((resolve, reject) => {
        pending.push({ entry, resolve, reject });
        void drain();
      });
    },

    /**
     * Appends the statement `prepare` makes under the log's append lock, alone:
     * for statements that depend on everything logged before them (a policy
     * change takes the next version). A throw from `prepare` appends nothing.
     */
    async appendPrepared<T extends LogStatement>(
      prepare: (first: number) => Promise<T>,
    ): Promise<Appended & { entry: T }> {
      let prepared: { entry: T; statement: string } | undefined;
      const {
        entries: [written],
      } = await log.append(1, async (first) => {
        const entry = await prepare(first);
        const records = await seal(first, [entry]);
        prepared = { entry, statement: records[0]?.receipt ?? '' };
        return records;
      });
      options.onCommit?.(1);
      if (prepared === undefined) throw new Error('the log appended without sealing');
      return { ...prepared, index: written?.index ?? -1 };
    },
  };
}

export type StatementLog = ReturnType<typeof createStatementLog>;
