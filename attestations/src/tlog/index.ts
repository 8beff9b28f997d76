/**
 * `@veritee/attestations/tlog`: the C2SP transparency-log formats: signed
 * notes and cosignatures, checkpoints, tiles and entry bundles.
 */
export * from './note.js';
export * from './checkpoint.js';
export * from './tiles.js';
