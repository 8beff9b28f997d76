/**
 * The log as C2SP tlog-tiles serves it, so any static server, CDN or witness
 * can mirror it and clients can compute proofs themselves:
 *
 *   GET /checkpoint                      the signed checkpoint note (with cosignatures)
 *   GET /tile/<L>/<N>[.p/<W>]            256 (or W) hashes at tree level 8L
 *   GET /tile/entries/<N>[.p/<W>]        the entries, uint16-length-prefixed
 *   GET /v1/log                          the log's origin, note key and witnesses
 *
 * Tiles exist once the log has grown over them, and never change after: they
 * are cached for a year. The checkpoint changes with every append.
 */
import type { Express, Request, Response } from 'express';
import { RequestError } from '@veritee/attestations';
import {
  encodeEntryBundle,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileAddress,
} from '@veritee/attestations/tlog';
import { route } from '@veritee/service/express';
import type { Checkpoints } from '../log/checkpoints.js';
import type { ReceiptLog } from '../log/receipt-log.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

export function tileRoutes(
  app: Express,
  deps: {
    readonly log: ReceiptLog;
    readonly checkpoints: Checkpoints;
    readonly witnesses: readonly string[];
  },
): void {
  app.get('/checkpoint', route('/checkpoint'), async (_request: Request, response: Response) => {
    const checkpoint = await deps.checkpoints.published();
    response
      .set('cache-control', 'public, max-age=1')
      .type('text/plain; charset=utf-8')
      .send(checkpoint.note);
  });

  app.get('/v1/log', route('/v1/log'), (_request: Request, response: Response) => {
    response.json({
      origin: deps.checkpoints.origin,
      key: deps.checkpoints.vkey,
      witnesses: deps.witnesses,
    });
  });

  app.get(/^\/tile\/.+/, route('/tile'), async (request: Request, response: Response) => {
    const tile = tileOf(request.path.slice(1));
    const size = await deps.log.size();
    const bytes =
      tile.level === 'entries' ? await bundle(tile, size) : await hashes(tile.level, tile, size);
    response
      .set('cache-control', IMMUTABLE)
      .type('application/octet-stream')
      .send(Buffer.from(bytes));
  });

  async function hashes(level: number, tile: TileAddress, size: number): Promise<Uint8Array> {
    const start = tile.index * TILE_WIDTH;
    if ((start + tile.width) * 2 ** (TILE_HEIGHT * level) > size) notYet();
    const found = await deps.log.hashes(TILE_HEIGHT * level, start, tile.width);
    if (found.length !== tile.width) notYet();
    return Buffer.concat(found);
  }

  async function bundle(tile: TileAddress, size: number): Promise<Uint8Array> {
    const start = tile.index * TILE_WIDTH;
    if (start + tile.width > size) notYet();
    return encodeEntryBundle(await deps.log.entries(start, tile.width));
  }
}

function tileOf(path: string): TileAddress {
  try {
    return parseTilePath(path);
  } catch {
    throw new RequestError(404, 'REQUEST_NOT_FOUND', 'not a tile path');
  }
}

function notYet(): never {
  throw new RequestError(404, 'LOG_TILE_NOT_FOUND', 'the log has not grown over this tile');
}
