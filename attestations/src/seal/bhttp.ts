/**
 * Binary HTTP messages (RFC 9292), the known-length form: what Oblivious HTTP
 * seals. Integers are QUIC variable-length integers (RFC 9000, section 16);
 * strings and sections are length-prefixed. A message may end early, its
 * missing sections empty (section 3.8); this encoder always writes them all.
 *
 * Request: 0 | method | scheme | authority | path | header fields | content | trailer fields.
 * Response: 1 | informational responses (status 100-199, fields)... | status | header fields | content | trailer fields.
 */
import { EvidenceError } from '../errors.js';

export type FieldLines = ReadonlyArray<readonly [name: string, value: string]>;

export interface BinaryRequest {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly headers: FieldLines;
  readonly content: Uint8Array;
}

export interface BinaryResponse {
  readonly status: number;
  readonly headers: FieldLines;
  readonly content: Uint8Array;
}

const KNOWN_LENGTH_REQUEST = 0;
const KNOWN_LENGTH_RESPONSE = 1;

function malformed(message: string): never {
  throw new EvidenceError('BHTTP_MALFORMED', message);
}

function varint(value: number): Buffer {
  if (value < 0x40) return Buffer.from([value]);
  if (value < 0x4000) return Buffer.from([0x40 | (value >> 8), value & 0xff]);
  if (value < 0x40000000) {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value);
    out[0] = (out[0] ?? 0) | 0x80;
    return out;
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  out[0] = (out[0] ?? 0) | 0xc0;
  return out;
}

const text = new TextEncoder();
const bytesOf = (value: Uint8Array | string) =>
  typeof value === 'string' ? text.encode(value) : value;
const lengthPrefixed = (value: Uint8Array | string) => {
  const bytes = bytesOf(value);
  return Buffer.concat([varint(bytes.byteLength), bytes]);
};
const fieldSection = (fields: FieldLines) =>
  lengthPrefixed(
    Buffer.concat(
      fields.map(([name, value]) =>
        Buffer.concat([lengthPrefixed(name.toLowerCase()), lengthPrefixed(value)]),
      ),
    ),
  );

export function encodeRequest(request: BinaryRequest): Uint8Array {
  return new Uint8Array(
    Buffer.concat([
      varint(KNOWN_LENGTH_REQUEST),
      lengthPrefixed(request.method),
      lengthPrefixed(request.scheme),
      lengthPrefixed(request.authority),
      lengthPrefixed(request.path),
      fieldSection(request.headers),
      lengthPrefixed(request.content),
      fieldSection([]),
    ]),
  );
}

export function encodeResponse(response: BinaryResponse): Uint8Array {
  if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599)
    malformed('a final status is 200 to 599');
  return new Uint8Array(
    Buffer.concat([
      varint(KNOWN_LENGTH_RESPONSE),
      varint(response.status),
      fieldSection(response.headers),
      lengthPrefixed(response.content),
      fieldSection([]),
    ]),
  );
}

/** Reads a message front to back; reading past the end means the rest is empty (truncation). */
class Reader {
  at = 0;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  get done(): boolean {
    return this.at >= this.bytes.byteLength;
  }
  varint(): number {
    const first = this.bytes[this.at];
    if (first === undefined) malformed('a varint is cut short');
    const size = 1 << (first >> 6);
    if (this.at + size > this.bytes.byteLength) malformed('a varint is cut short');
    let value = first & 0x3f;
    for (let i = 1; i < size; i++) value = value * 256 + (this.bytes[this.at + i] ?? 0);
    this.at += size;
    if (!Number.isSafeInteger(value)) malformed('a varint is out of range');
    return value;
  }
  chunk(): Uint8Array {
    const length = this.varint();
    if (this.at + length > this.bytes.byteLength) malformed('a field runs past the message');
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }
  string(): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.chunk());
    } catch (error) {
      if (error instanceof EvidenceError) throw error;
      return malformed('a field is not UTF-8');
    }
  }
  fields(): Array<[string, string]> {
    if (this.done) return [];
    const section = new Reader(this.chunk());
    const fields: Array<[string, string]> = [];
    while (!section.done) {
      if (fields.length >= 256) malformed('more than 256 field lines');
      fields.push([section.string(), section.string()]);
    }
    return fields;
  }
  content(): Uint8Array {
    return this.done ? new Uint8Array(0) : new Uint8Array(this.chunk());
  }
  end(): void {
    // The trailer section, then only padding (zero bytes) may follow (RFC 9292, section 3.8).
    this.fields();
    while (!this.done) if (this.bytes[this.at++] !== 0) malformed('bytes follow the message');
  }
}

/**
 * @throws EvidenceError BHTTP_MALFORMED, also for the indeterminate-length form (not accepted)
 */
export function decodeRequest(bytes: Uint8Array): BinaryRequest {
  const reader = new Reader(bytes);
  if (reader.varint() !== KNOWN_LENGTH_REQUEST) malformed('not a known-length request');
  const method = reader.string();
  const scheme = reader.string();
  const authority = reader.string();
  const path = reader.string();
  const headers = reader.fields();
  const content = reader.content();
  reader.end();
  return { method, scheme, authority, path, headers, content };
}

/** @throws EvidenceError BHTTP_MALFORMED */
export function decodeResponse(bytes: Uint8Array): BinaryResponse {
  const reader = new Reader(bytes);
  if (reader.varint() !== KNOWN_LENGTH_RESPONSE) malformed('not a known-length response');
  for (;;) {
    const status = reader.varint();
    if (status >= 100 && status < 200) {
      reader.fields();
      continue;
    }
    if (status < 200 || status > 599) malformed('a status is 100 to 599');
    const headers = reader.fields();
    const content = reader.content();
    reader.end();
    return { status, headers, content };
  }
}
