/**
 * The parts of an OVMF image that decide an SEV-SNP launch measurement: the
 * GUIDed table at the end of the firmware volume (OvmfPkg ResetVector), the
 * SEV metadata it points at (`ASEV`: the pages the hypervisor pre-validates,
 * the secrets and CPUID pages, the kernel hashes page) and the SEV-ES reset
 * vector the application processors start at.
 */
import { EvidenceError } from '@veritee/attestations';

const FOUR_GB = 0x1_0000_0000;
const GUID_SIZE = 16;
const TABLE_FOOTER_GUID = '96b582de-1fb2-45f7-baea-a366c55a082d';
const SEV_ES_RESET_BLOCK_GUID = '00f771de-1a7e-4fcb-890e-68c77e2fb44e';
const SEV_METADATA_GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';
const SEV_HASH_TABLE_GUID = '7255371f-3a3b-4b04-927b-1da6efa8d454';

/** OVMF's SEV metadata section types (OvmfPkg/Include/WorkArea.h and ResetVector). */
export const SectionType = {
  snpSecureMemory: 1,
  snpSecrets: 2,
  cpuid: 3,
  svsmCallingArea: 4,
  snpKernelHashes: 0x10,
} as const;

export interface MetadataSection {
  readonly gpa: number;
  readonly size: number;
  readonly type: number;
}

export interface Ovmf {
  readonly data: Uint8Array;
  /** Where the image is mapped: it ends at 4 GiB. */
  readonly gpa: number;
  readonly sections: readonly MetadataSection[];
  /** The SEV-ES reset vector of the application processors. */
  readonly resetEip: number;
  /** Where QEMU writes the kernel hashes table, when the build has one. */
  readonly hashesTableGpa: number | undefined;
}

/** A GUID in its mixed-endian byte form (EFI_GUID), as it lies in the image. */
export function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  const swap = (from: number, length: number) => bytes.subarray(from, from + length).reverse();
  swap(0, 4);
  swap(4, 2);
  swap(6, 2);
  return bytes;
}

function guidText(bytes: Uint8Array): string {
  const copy = Uint8Array.from(bytes);
  copy.subarray(0, 4).reverse();
  copy.subarray(4, 6).reverse();
  copy.subarray(6, 8).reverse();
  const hex = Buffer.from(copy).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const malformed = (message: string) => new EvidenceError('OVMF_MALFORMED', message);

/**
 * The table sits just before the last 32 bytes: entries, then a 2-byte total
 * length and the footer GUID. Each entry is data, a 2-byte length, a GUID,
 * read backwards from the end.
 */
function footerTable(data: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const footer = data.byteLength - 32 - GUID_SIZE;
  if (footer < 2 || guidText(data.subarray(footer, footer + GUID_SIZE)) !== TABLE_FOOTER_GUID)
    throw malformed('no OVMF GUIDed table footer: not an OVMF image built with SEV support');
  const total = view.getUint16(footer - 2, true);
  let end = footer - 2;
  const start = end - (total - GUID_SIZE - 2);
  if (total < GUID_SIZE + 2 || start < 0) throw malformed('the OVMF table length is out of range');
  const table = new Map<string, Uint8Array>();
  while (end - start >= GUID_SIZE + 2) {
    const guid = guidText(data.subarray(end - GUID_SIZE, end));
    const length = view.getUint16(end - GUID_SIZE - 2, true);
    if (length < GUID_SIZE + 2 || end - length < start)
      throw malformed(`the OVMF table entry ${guid} has a bad length`);
    table.set(guid, data.subarray(end - length, end - GUID_SIZE - 2));
    end -= length;
  }
  return table;
}

function u32(bytes: Uint8Array | undefined, what: string): number {
  if (bytes === undefined || bytes.byteLength < 4) throw malformed(`the OVMF table has no ${what}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
}

function metadata(data: Uint8Array, offsetFromEnd: number): MetadataSection[] {
  const start = data.byteLength - offsetFromEnd;
  if (offsetFromEnd <= 0 || start < 0 || start + 16 > data.byteLength)
    throw malformed('the SEV metadata offset is out of range');
  const view = new DataView(data.buffer, data.byteOffset + start, data.byteLength - start);
  if (Buffer.from(data.subarray(start, start + 4)).toString('latin1') !== 'ASEV')
    throw malformed('the SEV metadata has no ASEV signature');
  const length = view.getUint32(4, true);
  const count = view.getUint32(12, true);
  if (length !== 16 + count * 12 || start + length > data.byteLength)
    throw malformed('the SEV metadata length does not match its section count');
  return Array.from({ length: count }, (_, i) => ({
    gpa: view.getUint32(16 + i * 12, true),
    size: view.getUint32(20 + i * 12, true),
    type: view.getUint32(24 + i * 12, true),
  }));
}

/** @throws EvidenceError OVMF_MALFORMED for an image without SEV-SNP metadata */
export function parseOvmf(data: Uint8Array): Ovmf {
  if (data.byteLength === 0 || data.byteLength % 4096 !== 0 || data.byteLength > FOUR_GB / 2)
    throw malformed('an OVMF image is a whole number of 4 KiB pages');
  const table = footerTable(data);
  const sections = metadata(data, u32(table.get(SEV_METADATA_GUID), 'SEV metadata entry'));
  for (const section of sections)
    if (section.size === 0 || section.size % 4096 !== 0 || section.gpa % 4096 !== 0)
      throw malformed(
        `the SEV metadata section at 0x${section.gpa.toString(16)} is not page-aligned`,
      );
  const hashes = table.get(SEV_HASH_TABLE_GUID);
  const hashesGpa = hashes !== undefined && hashes.byteLength >= 4 ? u32(hashes, '') : 0;
  return {
    data,
    gpa: FOUR_GB - data.byteLength,
    sections,
    resetEip: u32(table.get(SEV_ES_RESET_BLOCK_GUID), 'SEV-ES reset block'),
    hashesTableGpa: hashesGpa === 0 ? undefined : hashesGpa,
  };
}
