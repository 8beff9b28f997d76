/**
 * The SEV hashes table QEMU writes into the guest for measured direct boot
 * (`-kernel`, `-initrd`, `-append` with `kernel-hashes=on`): SHA-256 of the
 * command line (NUL-terminated), the initrd (empty when absent) and the
 * kernel, each entry tagged with a GUID. OVMF checks the files it loads
 * against it, and the page holding it is measured.
 */
import { createHash } from 'node:crypto';
import { EvidenceError } from '@veritee/attestations';
import { guidBytes } from './ovmf.js';

const TABLE_GUID = '9438d606-4f22-4cc9-b479-a793d411fd21';
const CMDLINE_GUID = '97d02dd8-bd20-4c94-aa78-e7714d36ab2a';
const INITRD_GUID = '44baf731-3a2f-4bd7-9af1-41e29169781d';
const KERNEL_GUID = '4de79437-abd2-427f-b835-d5b172d2045b';
const ENTRY_SIZE = 16 + 2 + 32;

export interface DirectBoot {
  readonly kernel: Uint8Array;
  readonly initrd?: Uint8Array | undefined;
  readonly append?: string | undefined;
}

export function kernelHashesTable(boot: DirectBoot): Uint8Array {
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();
  const cmdline = new TextEncoder().encode(`${boot.append ?? ''}\0`);
  const entries: [string, Buffer][] = [
    [CMDLINE_GUID, sha256(cmdline)],
    [INITRD_GUID, sha256(boot.initrd ?? new Uint8Array())],
    [KERNEL_GUID, sha256(boot.kernel)],
  ];
  const length = 16 + 2 + entries.length * ENTRY_SIZE;
  const table = new Uint8Array((length + 15) & ~15); // QEMU pads to 16 bytes
  const view = new DataView(table.buffer);
  table.set(guidBytes(TABLE_GUID));
  view.setUint16(16, length, true);
  entries.forEach(([guid, digest], i) => {
    const at = 18 + i * ENTRY_SIZE;
    table.set(guidBytes(guid), at);
    view.setUint16(at + 16, ENTRY_SIZE, true);
    table.set(digest, at + 18);
  });
  return table;
}

/** The 4 KiB page holding the table at its offset. */
export function kernelHashesPage(boot: DirectBoot, offsetInPage: number): Uint8Array {
  const table = kernelHashesTable(boot);
  if (offsetInPage + table.byteLength > 4096)
    throw new EvidenceError('OVMF_MALFORMED', 'the kernel hashes table would cross its page');
  const page = new Uint8Array(4096);
  page.set(table, offsetInPage);
  return page;
}
