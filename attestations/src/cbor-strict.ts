/**
 * The strict CBOR decoder behind `decodeCbor`, written by hand because it
 * runs on every Nitro document appraised and every NSM response: it accepts
 * exactly what cbor2 accepts under the options in cbor.ts and yields the same
 * values (the tests hold it to cbor2 as an oracle, on real documents and on
 * generated and mutated input), about ten times faster. It accepts definite
 * lengths only, integers and lengths in their shortest form, no duplicate map
 * keys (compared by their encoding, which shortest forms make unique), no
 * floats, no simple values but false, true and null, valid UTF-8 text, no
 * trailing bytes; maps decode as `Map`, tags as `Tag`, integers beyond 2^53 as
 * bigint. Depth counts as cbor2 counts it: a map's or a tag's items one level
 * below it, an array's items two.
 */
import { Tag } from 'cbor2';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class CborSyntaxError extends Error {}

interface Cursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly maxDepth: number;
  offset: number;
}

/**
 * Decodes exactly one CBOR item from `bytes`.
 * @throws Error when the bytes are not strict, well-formed CBOR within `maxDepth`
 */
export function decodeStrictCbor(bytes: Uint8Array, maxDepth: number): unknown {
  const cursor: Cursor = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    maxDepth,
    offset: 0,
  };
  const value = item(cursor, 0);
  if (cursor.offset !== bytes.byteLength) fail('trailing bytes after the item');
  return value;
}

function fail(message: string): never {
  throw new CborSyntaxError(message);
}

/** The least argument each following-bytes form may carry: anything less has a shorter one. */
const LEAST = [24, 0x100, 0x10000];

/** The argument of a head whose additional information is `info`, in its shortest form. */
function argument(cursor: Cursor, info: number): number | bigint {
  if (info < 24) return info;
  // 28-30 are reserved; 31 is an indefinite length.
  if (info > 27) fail('reserved or indefinite-length encoding');
  const { view } = cursor;
  const at = cursor.offset;
  const width = 1 << (info - 24);
  if (at + width > view.byteLength) fail('cut short');
  cursor.offset = at + width;
  if (info === 27) {
    const big = view.getBigUint64(at);
    if (big <= 0xffffffffn) fail('integer not in its shortest form');
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  const value =
    info === 24 ? view.getUint8(at) : info === 25 ? view.getUint16(at) : view.getUint32(at);
  if (value < (LEAST[info - 24] as number)) fail('integer not in its shortest form');
  return value;
}

/** `length` bytes from the cursor, as a view of the input. */
function take(cursor: Cursor, length: number | bigint): Uint8Array {
  const start = cursor.offset;
  if (typeof length !== 'number' || length > cursor.bytes.byteLength - start) fail('cut short');
  cursor.offset = start + length;
  return cursor.bytes.subarray(start, start + length);
}

function item(cursor: Cursor, depth: number): unknown {
  if (depth > cursor.maxDepth) fail('nested too deeply');
  if (cursor.offset >= cursor.bytes.byteLength) fail('cut short');
  const initial = cursor.bytes[cursor.offset++] as number;
  const major = initial >> 5;
  const info = initial & 31;
  if (major === 7) {
    // Only false, true and null: no undefined, other simple values or floats.
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    return fail('a float, undefined or another simple value');
  }
  const value = argument(cursor, info);
  switch (major) {
    case 0:
      return value;
    case 1:
      return typeof value === 'number' ? -1 - value : -1n - value;
    case 2:
      return take(cursor, value);
    case 3:
      return utf8.decode(take(cursor, value));
    case 4: {
      // Every item takes at least a byte: a count beyond what is left is cut short.
      if (typeof value !== 'number' || value > cursor.bytes.byteLength - cursor.offset)
        fail('cut short');
      const array: unknown[] = new Array<unknown>(value);
      for (let index = 0; index < value; index++) array[index] = item(cursor, depth + 2);
      return array;
    }
    case 5: {
      if (typeof value !== 'number' || value * 2 > cursor.bytes.byteLength - cursor.offset)
        fail('cut short');
      const map = new Map<unknown, unknown>();
      const seen = new Set<string>();
      for (let index = 0; index < value; index++) {
        const start = cursor.offset;
        const key = item(cursor, depth + 1);
        const encoded = Buffer.from(
          cursor.bytes.buffer,
          cursor.bytes.byteOffset + start,
          cursor.offset - start,
        ).toString('latin1');
        if (seen.has(encoded)) fail('a map key repeats');
        seen.add(encoded);
        map.set(key, item(cursor, depth + 1));
      }
      return map;
    }
    default:
      return new Tag(value, item(cursor, depth + 1));
  }
}
