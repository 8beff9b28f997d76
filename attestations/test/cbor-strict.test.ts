/**
 * Our strict CBOR decoder against cbor2 as the oracle, under the options
 * decodeCbor stood for before it had its own decoder: on every real Nitro
 * document and its parts, on every head CBOR can spell, and on generated and
 * mutated input, both accept with deep-equal values or both refuse.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, Tag } from 'cbor2';
import { decodeStrictCbor } from '../src/cbor-strict.js';
import { parseNitroDocument } from '../src/nitro/index.js';
import { vectors, vectorFile } from '@veritee/mock/vectors';
import { applyMutation, mutationArbitrary } from './fuzz/mutation.js';

const oracle = (bytes: Uint8Array, maxDepth: number) =>
  decode(bytes, {
    maxDepth,
    preferMap: true,
    rejectDuplicateKeys: true,
    rejectStreaming: true,
    requirePreferred: true,
    rejectFloats: true,
    rejectUndefined: true,
    rejectBigInts: true,
    rejectSimple: true,
    ignoreGlobalTags: true,
    saveOriginal: false,
  });

type Outcome = { accepted: true; value: unknown } | { accepted: false };

function outcome(decoder: typeof oracle, bytes: Uint8Array, maxDepth: number): Outcome {
  try {
    return { accepted: true, value: decoder(bytes, maxDepth) };
  } catch {
    return { accepted: false };
  }
}

/** Both decoders give the same outcome; returns whether they accepted. */
function agree(bytes: Uint8Array, maxDepth = 8): boolean {
  const theirs = outcome(oracle, bytes, maxDepth);
  const ours = outcome(decodeStrictCbor, bytes, maxDepth);
  assert.deepStrictEqual(ours, theirs, `on ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
  return theirs.accepted;
}

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const documents = vectors
  .filter((vector) => vector.format === 'nitro')
  .map((vector) => vectorFile(vector.evidence));

describe('decodeStrictCbor against cbor2', () => {
  it('decodes every real Nitro document, its protected header and its payload as cbor2 does', () => {
    assert.ok(documents.length >= 2);
    for (const bytes of documents) {
      for (const depth of [3, 4, 8]) agree(bytes, depth);
      assert.equal(agree(bytes, 4), true);
      const document = parseNitroDocument(bytes);
      assert.equal(agree(document.protectedHeader, 1), true);
      assert.equal(agree(document.payloadBytes, 3), true);
      // One level short of what each needs: both refuse.
      assert.equal(agree(document.payloadBytes, 2), false);
    }
  });

  it('agrees on every initial byte, with each argument length and a short tail', () => {
    let accepted = 0;
    for (let initial = 0; initial < 256; initial++) {
      for (const tail of [
        '',
        '00',
        '18',
        '0000',
        '1800',
        '00000000',
        '0000000000000000',
        'ff'.repeat(9),
      ]) {
        if (agree(Uint8Array.of(initial, ...hex(tail)))) accepted += 1;
      }
    }
    // Both must have accepted something (small integers, short strings, false/true/null).
    assert.ok(accepted > 100, `only ${accepted} accepted`);
  });

  it('agrees on shortest and longer forms at every boundary, and on integers beyond 2^53', () => {
    const cases = [
      '17',
      '1817',
      '1818',
      '18ff',
      '1900ff',
      '190100',
      '19ffff',
      '1a0000ffff',
      '1a00010000',
      '1b00000000ffffffff',
      '1b0000000100000000',
      '1b001fffffffffffff',
      '1b0020000000000000',
      '1bffffffffffffffff',
      '3bffffffffffffffff',
      '3b001fffffffffffff',
      '3b0020000000000000',
      '5817' + '00'.repeat(23),
      '5818' + '00'.repeat(24),
      '7817' + '61'.repeat(23),
      '9817' + '00'.repeat(23),
      '9818' + '00'.repeat(24),
      'b817' + '0000'.repeat(23),
      'c1' + '00',
      'd818' + '00',
      'd81700',
      'db' + 'ffffffffffffffff' + '00',
      'db0000000100000000' + '00',
    ];
    for (const text of cases) agree(hex(text));
    assert.equal(agree(hex('1bffffffffffffffff')), true);
    assert.equal(typeof decodeStrictCbor(hex('1bffffffffffffffff'), 1), 'bigint');
  });

  it('agrees on maps: repeated keys in any form, keys of every kind, and odd counts', () => {
    const cases = [
      'a2 0100 0100',
      'a2 0100 0200',
      'a2 6161 00 6161 01',
      'a2 4161 00 6161 00',
      'a2 820102 00 820102 01',
      'a2 820102 00 820201 01',
      'a2 f6 00 f6 01',
      'a2 f4 00 f5 00',
      'a2 c10100 00 c10100 01',
      'a1 a0 00',
      'a2 a0 00 a0 00',
      'a1 01',
      'a0',
      'b800',
    ];
    for (const text of cases) agree(hex(text));
    assert.equal(agree(hex('a2 0100 0100')), false);
    assert.equal(agree(hex('a2 0100 0200')), true);
  });

  it('agrees on text: invalid UTF-8, a byte-order mark, and characters of every length', () => {
    const cases = ['62c328', '63efbbbf', '6461c3a9e282ac', '64f09f9880', '62eda080', '61ff', '60'];
    for (const text of cases) agree(hex(text));
    assert.equal(decodeStrictCbor(hex('63efbbbf'), 1), '\ufeff');
  });

  it('agrees on floats, undefined, break, simple values and indefinite lengths', () => {
    for (const text of [
      'f4',
      'f5',
      'f6',
      'f7',
      'f0',
      'f813',
      'f820',
      'f8ff',
      'f93c00',
      'fa3f800000',
      'fb3ff0000000000000',
      'ff',
      '5f41 00 ff',
      '7f6161ff',
      '9f00ff',
      'bf0000ff',
      '1f',
      '3f',
      'df00',
      '1c',
      '3d',
      '5e',
      '7e',
      '9c',
      'bd',
      'dc00',
      'fc',
      'fd',
      'fe',
    ])
      agree(hex(text));
  });

  it('counts depth as cbor2 does, at every limit, for arrays, maps and tags', () => {
    const shapes = [
      '81818100',
      'a101a101a10100',
      'c1c1c100',
      '81a181c100',
      'a1818100c100',
      '808080',
    ];
    for (const shape of shapes) for (let depth = 0; depth <= 8; depth++) agree(hex(shape), depth);
    // Deep nesting is refused without exhausting the stack.
    assert.equal(agree(new Uint8Array(100_000).fill(0x81), 64), false);
  });

  it('agrees on anything fast-check encodes, draws, or makes of a real document with edits', () => {
    const leaf = fc.oneof(
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(null, true, false),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('value'), { maxLength: 5 }),
        fc
          .array(fc.tuple(fc.oneof(leaf, tie('value')), tie('value')), { maxLength: 4 })
          .map((entries) => new Map(entries)),
        fc
          .tuple(fc.nat({ max: 300 }), tie('value'))
          .map(([tag, contents]) => new Tag(tag, contents)),
      ),
    }));
    const encoded = value.map((item) => encode(item));
    const mutated = fc
      .tuple(fc.oneof(fc.constantFrom(...documents), encoded), mutationArbitrary)
      .map(([input, mutation]) => applyMutation(input, mutation));
    fc.assert(
      fc.property(
        fc.oneof(encoded, mutated, fc.uint8Array({ maxLength: 64 })),
        fc.integer({ min: 0, max: 8 }),
        (bytes, depth) => {
          agree(bytes, depth);
        },
      ),
      { seed: 0xcb02, numRuns: 20_000, interruptAfterTimeLimit: 8000 },
    );
  });
});
