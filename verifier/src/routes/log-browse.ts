/**
 * The log, browsable by anyone (reads are public): entries by position, and
 * statements found by model hash, measurement, type, receipt id or time.
 *
 *   GET /v1/log/entries?start=S&count=C     entries S .. S+C-1 (C at most 100)
 *   GET /v1/log/search?model=&measurement=&type=&receipt=&since=&until=&before=&limit=
 *
 * Each item carries its signed statement, so what is shown can be checked,
 * not trusted: its leaf hash, and its inclusion through the proof routes.
 */
import type { Express, Request, Response } from 'express';
import { RequestError, toHex } from '@veritee/attestations';
import { leafHash } from '@veritee/attestations/merkle';
import { route } from '@veritee/service/express';
import type { ReceiptLog } from '../log/receipt-log.js';
import type { FoundStatement, StatementQuery } from '../log/statement-index.js';
import { integerParam } from './proofs.js';

const MAX_ITEMS = 100;

const queryOf = (request: Request) => new URL(request.originalUrl, 'http://verifier').searchParams;

function optionalHex(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^(?:[0-9a-f]{2}){1,128}$/.test(value))
    throw new RequestError(400, 'REQUEST_FIELD_INVALID', `${name} must be lower-case hex`);
  return value;
}

/** A time as ISO 8601 or seconds since the epoch. */
function optionalTime(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const seconds = /^\d{1,12}$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(seconds))
    throw new RequestError(400, 'REQUEST_FIELD_INVALID', `${name} must be ISO 8601 or seconds`);
  return Math.floor(seconds);
}

function item(statement: FoundStatement, leaf?: string) {
  return {
    index: statement.index,
    id: statement.id,
    type: statement.typ,
    issuedAt: statement.iat === null ? null : new Date(statement.iat * 1000).toISOString(),
    ...(leaf === undefined ? {} : { leafHash: leaf }),
    statement: statement.receipt,
  };
}

export function logBrowseRoutes(app: Express, log: ReceiptLog): void {
  app.get(
    '/v1/log/entries',
    route('/v1/log/entries'),
    async (request: Request, response: Response) => {
      const query = queryOf(request);
      const start = query.has('start') ? integerParam(query, 'start', 0) : 0;
      const count = query.has('count') ? integerParam(query, 'count', 1) : 20;
      if (count > MAX_ITEMS)
        throw new RequestError(400, 'REQUEST_FIELD_INVALID', `count is at most ${MAX_ITEMS}`);
      const [size, entries, statements] = await Promise.all([
        log.size(),
        log.entries(start, count),
        log.statements(start, count),
      ]);
      const byIndex = new Map(statements.map((statement) => [statement.index, statement]));
      response.json({
        size,
        entries: entries.map((entry, offset) => {
          const index = start + offset;
          const leaf = toHex(leafHash(entry));
          const statement = byIndex.get(index);
          return statement === undefined
            ? { index, leafHash: leaf, id: null, type: null, issuedAt: null, statement: null }
            : item(statement, leaf);
        }),
      });
    },
  );

  app.get(
    '/v1/log/search',
    route('/v1/log/search'),
    async (request: Request, response: Response) => {
      const query = queryOf(request);
      const limit = query.has('limit') ? integerParam(query, 'limit', 1) : 20;
      if (limit > MAX_ITEMS)
        throw new RequestError(400, 'REQUEST_FIELD_INVALID', `limit is at most ${MAX_ITEMS}`);
      const receipt = query.get('receipt');
      if (receipt !== null) {
        // A receipt id names one statement.
        if (receipt.length === 0 || receipt.length > 256)
          throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'receipt must be a receipt id');
        const found = (await log.findReceipts(receipt)).find((entry) => entry.id === receipt);
        const [statement] = found === undefined ? [] : await log.statements(found.index, 1);
        response.json({ results: statement === undefined ? [] : [item(statement)], next: null });
        return;
      }
      const type = query.get('type');
      if (type !== null && !/^[a-z0-9.-]+\/v\d+$/.test(type))
        throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'type must be a format tag');
      const search: StatementQuery = {
        modelHash: optionalHex(query, 'model'),
        measurement: optionalHex(query, 'measurement'),
        typ: type ?? undefined,
        since: optionalTime(query, 'since'),
        until: optionalTime(query, 'until'),
        before: query.has('before') ? integerParam(query, 'before', 0) : undefined,
        limit,
      };
      const results = await log.searchStatements(search);
      const last = results.at(-1);
      response.json({
        results: results.map((statement) => item(statement)),
        // The next page: the same query with before=<this>.
        next: results.length === limit && last !== undefined ? last.index : null,
      });
    },
  );
}
