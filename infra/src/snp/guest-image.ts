/**
 * The measured SEV-SNP guest as an operator builds it: the initrd (the
 * enclave and everything it runs), and a `veritee.snp-boot/v1` boot config
 * pinning firmware, kernel and initrd by SHA-256 with the command line, so
 * `measure-snp --boot-config` and `launch-qemu.sh` use exactly what was built.
 * The kernel command line boots from the initrd alone: no root filesystem,
 * hence no dm-verity root hash to fix; the initrd's hash is the whole guest.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildGuestInitrd, type GuestInitrdOptions } from './guest-initrd.js';
import { snpLaunchDigest } from './launch-digest.js';
import { vcpuTypeSignature } from './cpu-types.js';

/** The command line the guest boots with: console, PID 1 from the initrd, reboot never. */
export const GUEST_APPEND = 'console=ttyS0 rdinit=/init panic=-1';

export interface GuestImageOptions extends Omit<GuestInitrdOptions, 'out'> {
  /** Where initrd.img and boot.json go. */
  readonly outDir: string;
  /** The guest kernel (bzImage), pinned by the caller (infra/images/snp/build.sh). */
  readonly kernel: string;
  /** OVMF built from OvmfPkg/AmdSev (kernel hashes), pinned likewise. */
  readonly ovmf: string;
  readonly vcpus: number;
  readonly vcpuType: string;
}

export interface GuestImage {
  readonly initrd: { readonly path: string; readonly sha256: string; readonly bytes: number };
  readonly bootConfig: string;
  /** The launch measurement QEMU with these inputs makes the guest report, hex. */
  readonly measurement: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function buildGuestImage(options: GuestImageOptions): Promise<GuestImage> {
  const initrdPath = resolve(options.outDir, 'initrd.img');
  const initrd = await buildGuestInitrd({ ...options, out: initrdPath });
  const [ovmf, kernel] = [resolve(options.ovmf), resolve(options.kernel)];
  // Each input read once: what is pinned is what is measured.
  const read = async (path: string) => new Uint8Array(await readFile(path));
  const [firmware, kernelBytes, initrdBytes] = await Promise.all([
    read(ovmf),
    read(kernel),
    read(initrdPath),
  ]);
  const bootConfig = join(options.outDir, 'boot.json');
  await writeFile(
    bootConfig,
    `${JSON.stringify(
      {
        format: 'veritee.snp-boot/v1',
        vmm: 'qemu',
        vcpus: options.vcpus,
        vcpuType: options.vcpuType,
        guestFeatures: '0x1',
        ovmf: { path: ovmf, sha256: sha256(firmware) },
        kernel: { path: kernel, sha256: sha256(kernelBytes) },
        initrd: { path: initrdPath, sha256: initrd.sha256 },
        append: GUEST_APPEND,
      },
      null,
      2,
    )}\n`,
  );
  const digest = snpLaunchDigest(firmware, {
    vcpus: options.vcpus,
    cpuSignature: vcpuTypeSignature(options.vcpuType),
    guestFeatures: 1n,
    boot: {
      kernel: kernelBytes,
      initrd: initrdBytes,
      append: GUEST_APPEND,
    },
  });
  return {
    initrd: { path: initrdPath, sha256: initrd.sha256, bytes: initrd.bytes },
    bootConfig,
    measurement: Buffer.from(digest).toString('hex'),
  };
}
