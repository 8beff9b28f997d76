/**
 * The one adapter for CBOR. Decoding is strict and bounded: definite lengths
 * only, every integer and length in its shortest form (so one value has one
 * encoding, and a key cannot repeat under a longer spelling), no duplicate map
 * keys, no floats, no undefined, no trailing bytes, maps as `Map`, tags kept
 * as `Tag` objects, and a nesting limit so hostile input cannot exhaust the
 * stack. The caller bounds the input size before calling. Decoding is our own
 * (cbor-strict.ts, held to cbor2 with the options its tests name); encoding is
 * cbor2's.
 */
import { encode, Tag } from 'cbor2';
import { decodeStrictCbor } from './cbor-strict.js';
import { EvidenceError } from './errors.js';

export { Tag };

/** A decoded CBOR value under the options below. */
export type CborValue = unknown;

/**
 * Decodes exactly one CBOR item.
 * @throws EvidenceError with `code` when the bytes are not strict, well-formed CBOR
 */
export function decodeCbor(
  bytes: Uint8Array,
  options: { maxDepth: number; code: string },
): CborValue {
  try {
    return decodeStrictCbor(bytes, options.maxDepth);
  } catch (error) {
    throw new EvidenceError(
      options.code,
      'input is not well-formed CBOR within the allowed limits',
      { cause: error },
    );
  }
}

/**
 * Encodes a value with definite lengths and preferred (shortest) integer forms.
 * Node Buffers are written as byte strings (cbor2 would otherwise encode their
 * JSON form).
 */
export function encodeCbor(value: unknown): Uint8Array {
  return encode(asPlainBytes(value));
}

function asPlainBytes(value: unknown): unknown {
  if (Buffer.isBuffer(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Map)
    return new Map([...value].map(([key, item]) => [key, asPlainBytes(item)]));
  if (Array.isArray(value)) return value.map(asPlainBytes);
  if (value instanceof Tag) return new Tag(value.tag, asPlainBytes(value.contents));
  return value;
}
