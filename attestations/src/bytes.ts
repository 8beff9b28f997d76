import { timingSafeEqual } from 'node:crypto';

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string (optional `0x`); `undefined` when it is not even-length hex. */
export function fromHex(hex: string): Uint8Array | undefined {
  const digits = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined;
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

/** Base64 as every reader here takes it: the standard alphabet, padding optional. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether `text` is base64. The usual, canonical spelling is recognised by
 * decoding and encoding back, five times faster than the pattern on an
 * answer's 20 KB; anything else is held to the pattern.
 */
export function isBase64(text: string): boolean {
  return decodedBase64(text) !== undefined;
}

/** Bytes of a base64 string (see `isBase64`); `undefined` when it is not one. */
export function fromBase64(text: string): Uint8Array | undefined {
  const bytes = decodedBase64(text);
  return bytes === undefined ? undefined : new Uint8Array(bytes);
}

function decodedBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text || BASE64.test(text) ? bytes : undefined;
}

/** Constant-time equality for equal lengths; false for different lengths. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** True when every byte is zero. */
export function isAllZero(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** A copy of `bytes` in reverse order (little-endian <-> big-endian). */
export function reversed(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes).reverse();
}

/** A view (not a copy) of `length` bytes at `offset`. */
export function slice(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  return bytes.subarray(offset, offset + length);
}
