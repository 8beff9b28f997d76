/**
 * The certificate table returned with an extended attestation report
 * (SNP_GET_EXT_REPORT, and configfs-tsm's `auxblob`): entries of
 * { GUID (16 bytes, RFC 4122 byte order), offset u32 LE, length u32 LE },
 * ended by an all-zero entry, offsets counted from the table's start
 * (GHCB specification #56421, section 4.1.8.1, Table 9).
 */
import { EvidenceError } from '../errors.js';
import { isAllZero } from '../bytes.js';

export const SNP_CERT_GUIDS = {
  VCEK: '63da758d-e664-4564-adc5-f4b93be8accd',
  VLEK: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ASK: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ARK: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  CRL: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
} as const;
export type SnpCertKind = keyof typeof SNP_CERT_GUIDS;

const ENTRY_SIZE = 24;
/** Upper bound on a table, far above a full VCEK+ASK+ARK+CRL set (~8 KiB). */
export const SNP_CERT_TABLE_MAX_SIZE = 64 * 1024;

/** One entry of the table; `kind` is undefined for a GUID we do not know. */
export interface SnpCertEntry {
  readonly guid: string;
  readonly kind: SnpCertKind | undefined;
  readonly data: Uint8Array;
}

/**
 * Parses a certificate table. Trailing bytes after the data are allowed (the
 * kernel hands over a page-sized buffer); overlapping or out-of-range entries are not.
 * @throws EvidenceError SNP_CERT_TABLE_MALFORMED
 */
export function parseSnpCertTable(bytes: Uint8Array): SnpCertEntry[] {
  if (bytes.byteLength > SNP_CERT_TABLE_MAX_SIZE)
    malformed(`table is ${bytes.byteLength} bytes; at most ${SNP_CERT_TABLE_MAX_SIZE} allowed`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: SnpCertEntry[] = [];
  const seen = new Set<string>();
  const ranges: Array<[number, number]> = [];
  for (let position = 0; ; position += ENTRY_SIZE) {
    if (position + ENTRY_SIZE > bytes.byteLength)
      malformed('table has no terminating all-zero entry');
    const header = bytes.subarray(position, position + ENTRY_SIZE);
    if (isAllZero(header)) break;
    const guid = guidToString(header.subarray(0, 16));
    const offset = view.getUint32(position + 16, true);
    const length = view.getUint32(position + 20, true);
    if (length === 0 || offset + length > bytes.byteLength)
      malformed(`entry ${guid} points outside the table`);
    if (seen.has(guid)) malformed(`entry ${guid} appears twice`);
    seen.add(guid);
    ranges.push([offset, offset + length]);
    entries.push({ guid, kind: kindOf(guid), data: bytes.slice(offset, offset + length) });
  }
  const headerEnd = (entries.length + 1) * ENTRY_SIZE;
  let previousEnd = headerEnd;
  for (const [start, end] of ranges.sort((a, b) => a[0] - b[0])) {
    if (start < previousEnd) malformed('entries overlap each other or the header');
    previousEnd = end;
  }
  return entries;
}

/** Lays out a table: header entries, terminator, then each entry's data in order. */
export function serializeSnpCertTable(
  entries: ReadonlyArray<Pick<SnpCertEntry, 'guid' | 'data'>>,
): Uint8Array {
  const headerSize = (entries.length + 1) * ENTRY_SIZE;
  const total = headerSize + entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let offset = headerSize;
  entries.forEach((entry, index) => {
    bytes.set(guidToBytes(entry.guid), index * ENTRY_SIZE);
    view.setUint32(index * ENTRY_SIZE + 16, offset, true);
    view.setUint32(index * ENTRY_SIZE + 20, entry.data.byteLength, true);
    bytes.set(entry.data, offset);
    offset += entry.data.byteLength;
  });
  return bytes;
}

/** The data of the first entry of `kind`, if any. */
export function findCert(
  entries: readonly SnpCertEntry[],
  kind: SnpCertKind,
): Uint8Array | undefined {
  return entries.find((entry) => entry.kind === kind)?.data;
}

function kindOf(guid: string): SnpCertKind | undefined {
  return (Object.keys(SNP_CERT_GUIDS) as SnpCertKind[]).find(
    (kind) => SNP_CERT_GUIDS[kind] === guid,
  );
}

function guidToString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function guidToBytes(guid: string): Uint8Array {
  const hex = guid.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex))
    throw new EvidenceError('SNP_CERT_TABLE_MALFORMED', 'GUID is not 32 lower-case hex digits');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function malformed(message: string): never {
  throw new EvidenceError('SNP_CERT_TABLE_MALFORMED', message);
}
