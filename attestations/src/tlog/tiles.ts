/**
 * C2SP tiles (c2sp.org/tlog-tiles): the log's Merkle tree served as tiles of
 * 256 hashes (height 8) at `tile/<L>/<N>[.p/<W>]` and its entries as bundles
 * at `tile/entries/<N>[.p/<W>]`, each bundle a sequence of big-endian uint16
 * length-prefixed entries. `<N>` is written in 3-digit groups, all but the
 * last prefixed with `x` (1234067 is `x001/x234/067`).
 */
import { EvidenceError } from '../errors.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** An entry bundle holds entries of at most this many bytes (uint16 lengths). */
export const TILE_ENTRY_MAX_SIZE = 0xffff;

export interface TileAddress {
  /** Tree level / 8, or 'entries' for an entry bundle. */
  readonly level: number | 'entries';
  readonly index: number;
  /** 256 for a full tile, 1 to 255 for a partial one. */
  readonly width: number;
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function formatTilePath(tile: TileAddress): string {
  const groups: string[] = [];
  let rest = tile.index;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  const index = groups.map((group, i) => (i < groups.length - 1 ? `x${group}` : group)).join('/');
  const partial = tile.width < TILE_WIDTH ? `.p/${tile.width}` : '';
  return `tile/${String(tile.level)}/${index}${partial}`;
}

/**
 * Reads a tile path (without a leading slash), strictly: one spelling per tile.
 * @throws EvidenceError TILE_PATH_INVALID
 */
export function parseTilePath(path: string): TileAddress {
  const match =
    /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(
      path,
    );
  const level = match?.[1] === 'entries' ? 'entries' : Number(match?.[1]);
  const groups = match?.[2]?.split('/').map((group) => group.replace('x', '')) ?? [];
  const index = groups.reduce((value, group) => value * 1000 + Number(group), 0);
  const width = match?.[3] === undefined ? TILE_WIDTH : Number(match[3]);
  if (
    match === null ||
    (level !== 'entries' && level > 63) ||
    (match?.[3] !== undefined && width >= TILE_WIDTH) ||
    !Number.isSafeInteger(index) ||
    // No leading zero groups: index 5 is `005`, never `x000/005`.
    (groups.length > 1 && groups[0] === '000')
  )
    throw new EvidenceError('TILE_PATH_INVALID', 'not a tile path: tile/<L>/<N>[.p/<W>]');
  return { level, index, width };
}

/** Width of the rightmost tile at `level` of a tree of `size` (0: none is partial). */
export function partialTileWidth(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level) % TILE_WIDTH;
}

/** Concatenates entries, each after its length as a big-endian uint16. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((total, entry) => total + 2 + entry.byteLength, 0));
  let at = 0;
  for (const entry of entries) {
    if (entry.byteLength > TILE_ENTRY_MAX_SIZE)
      throw new EvidenceError('TILE_ENTRY_TOO_LARGE', 'an entry bundle holds entries under 64 KiB');
    out[at] = entry.byteLength >> 8;
    out[at + 1] = entry.byteLength & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.byteLength;
  }
  return out;
}

/**
 * Splits an entry bundle.
 * @throws EvidenceError TILE_MALFORMED
 */
export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  for (let at = 0; at < bundle.byteLength;) {
    if (entries.length >= TILE_WIDTH || at + 2 > bundle.byteLength)
      throw new EvidenceError('TILE_MALFORMED', 'an entry bundle is cut short or too long');
    const length = ((bundle[at] ?? 0) << 8) | (bundle[at + 1] ?? 0);
    if (at + 2 + length > bundle.byteLength)
      throw new EvidenceError('TILE_MALFORMED', 'an entry runs past the end of its bundle');
    entries.push(bundle.slice(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}
