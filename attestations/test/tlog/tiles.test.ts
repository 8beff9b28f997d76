import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EvidenceError } from '../../src/index.js';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  formatTilePath,
  parseTilePath,
  partialTileWidth,
} from '../../src/tlog/index.js';

describe('tile paths', () => {
  it('writes the tlog-tiles examples and reads each back', () => {
    const cases: Array<[Parameters<typeof formatTilePath>[0], string]> = [
      [{ level: 0, index: 1234067, width: 256 }, 'tile/0/x001/x234/067'],
      [{ level: 2, index: 5, width: 17 }, 'tile/2/005.p/17'],
      [{ level: 'entries', index: 1000, width: 1 }, 'tile/entries/x001/000.p/1'],
      [{ level: 1, index: 0, width: 256 }, 'tile/1/000'],
    ];
    for (const [tile, path] of cases) {
      assert.equal(formatTilePath(tile), path);
      assert.deepEqual(parseTilePath(path), tile);
    }
  });

  it('refuses every other spelling', () => {
    for (const bad of [
      'tile/0/5',
      'tile/0/x000/005',
      'tile/00/005',
      'tile/64/005',
      'tile/0/005.p/0',
      'tile/0/005.p/256',
      'tile/0/005.p/017',
      'tile/0/005/',
      '/tile/0/005',
      'tile/data/005',
    ])
      assert.throws(
        () => parseTilePath(bad),
        (error: unknown) => error instanceof EvidenceError && error.code === 'TILE_PATH_INVALID',
        bad,
      );
  });

  it("gives the rightmost tiles' widths of the specification's tree of 70,000", () => {
    assert.deepEqual(
      [0, 1, 2].map((level) => partialTileWidth(level, 70_000)),
      [112, 17, 1],
    );
    assert.deepEqual(
      [0, 1].map((level) => partialTileWidth(level, 256)),
      [0, 1],
    );
  });
});

describe('entry bundles', () => {
  it('round-trips entries of any size up to 65,535 bytes and refuses a cut bundle', () => {
    const entries = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(65_535).fill(7)];
    const bundle = encodeEntryBundle(entries);
    assert.deepEqual(bundle.subarray(0, 7), new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
    assert.deepEqual(decodeEntryBundle(bundle), entries);
    assert.throws(() => decodeEntryBundle(bundle.subarray(0, bundle.byteLength - 1)));
    assert.throws(() => encodeEntryBundle([new Uint8Array(65_536)]));
  });
});
