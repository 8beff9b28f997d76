/**
 * Base64 reading: `isBase64` and `fromBase64` take exactly what the pattern
 * /^[A-Za-z0-9+/]*={0,2}$/ takes (their fast path only recognises the
 * canonical spelling sooner) and read the bytes Buffer reads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { fromBase64, isBase64 } from '../src/bytes.js';

const PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

function agreesWithPattern(text: string): void {
  const expected = PATTERN.test(text);
  assert.equal(isBase64(text), expected, JSON.stringify(text));
  const bytes = fromBase64(text);
  assert.equal(bytes !== undefined, expected, JSON.stringify(text));
  if (bytes !== undefined) {
    assert.deepEqual(bytes, new Uint8Array(Buffer.from(text, 'base64')));
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
  }
}

describe('isBase64 and fromBase64', () => {
  it('take canonical, unpadded and stray-bit spellings as the pattern does, and read the same bytes', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 6000, 15_000]) {
      const canonical = randomBytes(length).toString('base64');
      agreesWithPattern(canonical);
      agreesWithPattern(canonical.replace(/=+$/, ''));
      assert.ok(isBase64(canonical));
    }
    for (const text of [
      'QQ==',
      'QQ',
      'QR==',
      'QQ=',
      'Q',
      'QQ===',
      '=QQ',
      'Q=Q=',
      'QQ ==',
      'Q\nQ',
      'QQ-_',
      'é',
    ]) {
      agreesWithPattern(text);
    }
    assert.deepEqual(
      fromBase64('QR=='),
      Uint8Array.of(0x41),
      'stray low bits read as Buffer reads them',
    );
    assert.equal(fromBase64('QQ-_'), undefined, 'not the URL-safe alphabet');
  });

  it('agree with the pattern on anything drawn from base64, URL-safe and stray characters', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'AQgw+/=-_ \n.é'), maxLength: 40 }),
        (text) => agreesWithPattern(text),
      ),
      { seed: 0xb64, numRuns: 5000 },
    );
  });
});
