/**
 * OVMF images for the measurement tests: Debian's (package `ovmf`, when
 * installed; CI installs it) and a synthetic one laid out like an
 * OvmfPkg/AmdSev build, with a kernel hashes section for measured direct boot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { guidBytes } from '@veritee/infra';

export const DEBIAN_OVMF = '/usr/share/ovmf/OVMF.fd';

// CI sets VERITEE_REQUIRE_OVMF=1: there a missing image is a failure, not a skip.
if (!existsSync(DEBIAN_OVMF) && process.env['VERITEE_REQUIRE_OVMF'] === '1')
  throw new Error(`VERITEE_REQUIRE_OVMF=1 but ${DEBIAN_OVMF} is missing (apt install ovmf)`);

export function debianOvmf(): Uint8Array | undefined {
  return existsSync(DEBIAN_OVMF) ? new Uint8Array(readFileSync(DEBIAN_OVMF)) : undefined;
}

/** The SEV metadata of OvmfPkgX64 builds, as published with the EC2 reference digests. */
export const OVMF_X64_SECTIONS = [
  { gpa: 0x800000, size: 0x9000, type: 1 },
  { gpa: 0x80a000, size: 0x3000, type: 1 },
  { gpa: 0x80d000, size: 0x1000, type: 2 },
  { gpa: 0x80e000, size: 0x1000, type: 3 },
  { gpa: 0x80f000, size: 0x11000, type: 1 },
];

export interface SyntheticOvmf {
  readonly sections: readonly { gpa: number; size: number; type: number }[];
  readonly resetEip: number;
  readonly hashesTableGpa?: number;
  readonly pages?: number;
}

/** Builds an image with the footer table and `ASEV` metadata where OVMF puts them. */
export function syntheticOvmf(layout: SyntheticOvmf): Uint8Array {
  const image = new Uint8Array((layout.pages ?? 4) * 4096);
  image.fill(0x90, 0, image.byteLength - 4096); // code the tests need not understand
  const view = new DataView(image.buffer);
  const metadataAt = image.byteLength - 2048;
  image.set(new TextEncoder().encode('ASEV'), metadataAt);
  view.setUint32(metadataAt + 4, 16 + 12 * layout.sections.length, true);
  view.setUint32(metadataAt + 8, 1, true);
  view.setUint32(metadataAt + 12, layout.sections.length, true);
  layout.sections.forEach((section, i) => {
    view.setUint32(metadataAt + 16 + i * 12, section.gpa, true);
    view.setUint32(metadataAt + 20 + i * 12, section.size, true);
    view.setUint32(metadataAt + 24 + i * 12, section.type, true);
  });
  const u32 = (value: number) => {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value, true);
    return bytes;
  };
  const entries: [string, Uint8Array][] = [
    ['00f771de-1a7e-4fcb-890e-68c77e2fb44e', u32(layout.resetEip)],
    ['dc886566-984a-4798-a75e-5585a7bf67cc', u32(image.byteLength - metadataAt)],
  ];
  if (layout.hashesTableGpa !== undefined)
    entries.push([
      '7255371f-3a3b-4b04-927b-1da6efa8d454',
      Uint8Array.from([...u32(layout.hashesTableGpa), ...u32(0x400)]),
    ]);
  // Entries are read backwards from the footer: data, length, GUID.
  const encoded = entries.map(([guid, data]) => {
    const entry = new Uint8Array(data.byteLength + 18);
    entry.set(data);
    new DataView(entry.buffer).setUint16(data.byteLength, entry.byteLength, true);
    entry.set(guidBytes(guid), data.byteLength + 2);
    return entry;
  });
  const tableLength = encoded.reduce((sum, entry) => sum + entry.byteLength, 0);
  const footer = image.byteLength - 48;
  let at = footer - 2 - tableLength;
  for (const entry of encoded) {
    image.set(entry, at);
    at += entry.byteLength;
  }
  view.setUint16(footer - 2, tableLength + 18, true);
  image.set(guidBytes('96b582de-1fb2-45f7-baea-a366c55a082d'), footer);
  return image;
}
