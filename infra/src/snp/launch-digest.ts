/**
 * The SEV-SNP launch digest (MEASUREMENT in the attestation report), as the
 * PSP computes it over SNP_LAUNCH_UPDATE (SEV-SNP ABI, "PAGE_INFO"): for every
 * page the hypervisor adds, digest = SHA-384(digest || contents || length ||
 * page type || IMI || VMPL permissions || GPA), starting from 48 zero bytes.
 * With QEMU and OVMF the pages are, in order: the firmware image, the
 * metadata sections OVMF declares (with the kernel hashes page for measured
 * direct boot), then one VMSA per vCPU.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '@veritee/attestations';
import { kernelHashesPage, type DirectBoot } from './kernel-hashes.js';
import { parseOvmf, SectionType, type MetadataSection, type Ovmf } from './ovmf.js';
import { BSP_EIP, buildVmsa, type VmmType } from './vmsa.js';

const PAGE = 4096;
const DIGEST_SIZE = 48;
const PAGE_INFO_SIZE = 0x70;
// The VMSA is added at GPA (u64)-1, page-aligned with bits above 51 cleared.
const VMSA_GPA = 0xfffffffff000n;

const PageType = { normal: 1, vmsa: 2, zero: 3, unmeasured: 4, secrets: 5, cpuid: 6 } as const;

/** The launch digest as it grows page by page. */
export class LaunchDigest {
  #digest: Uint8Array;

  /** @param seed a digest to continue from, e.g. a precomputed OVMF hash */
  constructor(seed: Uint8Array = new Uint8Array(DIGEST_SIZE)) {
    if (seed.byteLength !== DIGEST_SIZE)
      throw new ConfigError('MEASURE_BAD_OVMF_HASH', 'an OVMF hash is 48 bytes (SHA-384)');
    this.#digest = Uint8Array.from(seed);
  }

  get digest(): Uint8Array {
    return Uint8Array.from(this.#digest);
  }

  #update(type: number, gpa: bigint, contents: Uint8Array): void {
    const info = new Uint8Array(PAGE_INFO_SIZE);
    const view = new DataView(info.buffer);
    info.set(this.#digest, 0);
    info.set(contents, DIGEST_SIZE);
    view.setUint16(96, PAGE_INFO_SIZE, true);
    info[98] = type;
    // 99: IMI_PAGE = 0; 100..102: VMPL3..1 permissions = 0; 103: reserved
    view.setBigUint64(104, gpa, true);
    this.#digest = new Uint8Array(createHash('sha384').update(info).digest());
  }

  normalPages(gpa: number, data: Uint8Array): void {
    for (let at = 0; at < data.byteLength; at += PAGE) {
      const page = data.subarray(at, at + PAGE);
      this.#update(PageType.normal, BigInt(gpa + at), createHash('sha384').update(page).digest());
    }
  }

  #empty(type: number, gpa: number, size: number): void {
    for (let at = 0; at < size; at += PAGE)
      this.#update(type, BigInt(gpa + at), new Uint8Array(DIGEST_SIZE));
  }

  zeroPages(gpa: number, size: number): void {
    this.#empty(PageType.zero, gpa, size);
  }

  secretsPage(gpa: number): void {
    this.#empty(PageType.secrets, gpa, PAGE);
  }

  cpuidPage(gpa: number): void {
    this.#empty(PageType.cpuid, gpa, PAGE);
  }

  vmsaPage(vmsa: Uint8Array): void {
    this.#update(PageType.vmsa, VMSA_GPA, createHash('sha384').update(vmsa).digest());
  }
}

export interface SnpLaunchOptions {
  readonly vcpus: number;
  /** CPUID signature of the vCPU model (see VCPU_TYPES); unused on EC2. */
  readonly cpuSignature: number;
  readonly vmm?: VmmType;
  /** SEV_FEATURES of the guest; 1 (SNP active) unless the VMM enables more. */
  readonly guestFeatures?: bigint;
  /** Measured direct boot; needs an OVMF built with a kernel hashes section. */
  readonly boot?: DirectBoot | undefined;
}

/** What the digest needs of the firmware: its metadata, and its pages or their hash. */
export interface FirmwareLayout {
  readonly sections: readonly MetadataSection[];
  readonly resetEip: number;
  readonly hashesTableGpa?: number | undefined;
}

function metadataPages(
  ld: LaunchDigest,
  firmware: FirmwareLayout,
  options: SnpLaunchOptions,
): void {
  const ec2 = options.vmm === 'ec2';
  const hasHashesSection = firmware.sections.some((s) => s.type === SectionType.snpKernelHashes);
  if (options.boot !== undefined && !hasHashesSection)
    throw new ConfigError(
      'MEASURE_NO_KERNEL_HASHES',
      'a kernel was given but this OVMF has no SNP kernel hashes section (build OvmfPkg/AmdSev for measured direct boot)',
    );
  for (const section of firmware.sections) {
    switch (section.type) {
      case SectionType.snpSecureMemory:
      case SectionType.svsmCallingArea:
        ld.zeroPages(section.gpa, section.size);
        break;
      case SectionType.snpSecrets:
        ld.secretsPage(section.gpa);
        break;
      case SectionType.cpuid:
        if (!ec2) ld.cpuidPage(section.gpa);
        break;
      case SectionType.snpKernelHashes:
        if (options.boot !== undefined && firmware.hashesTableGpa !== undefined)
          ld.normalPages(
            section.gpa,
            kernelHashesPage(options.boot, firmware.hashesTableGpa & (PAGE - 1)),
          );
        else ld.zeroPages(section.gpa, section.size);
        break;
      default:
        throw new ConfigError(
          'MEASURE_UNKNOWN_SECTION',
          `OVMF declares a metadata section of unknown type ${section.type}`,
        );
    }
  }
  // EC2 adds the CPUID page after every other metadata section.
  if (ec2)
    for (const section of firmware.sections)
      if (section.type === SectionType.cpuid) ld.cpuidPage(section.gpa);
}

function finish(ld: LaunchDigest, firmware: FirmwareLayout, options: SnpLaunchOptions): Uint8Array {
  if (!Number.isInteger(options.vcpus) || options.vcpus < 1 || options.vcpus > 512)
    throw new ConfigError('MEASURE_BAD_VCPUS', 'the vCPU count is a whole number from 1 to 512');
  metadataPages(ld, firmware, options);
  const common = {
    sevFeatures: options.guestFeatures ?? 1n,
    cpuSignature: options.cpuSignature,
    vmm: options.vmm ?? 'qemu',
  };
  const bsp = buildVmsa({ ...common, eip: BSP_EIP });
  const ap = buildVmsa({ ...common, eip: firmware.resetEip });
  for (let cpu = 0; cpu < options.vcpus; cpu += 1) ld.vmsaPage(cpu === 0 ? bsp : ap);
  return ld.digest;
}

/** The hash of the firmware pages alone, the first stage of the digest. */
export function ovmfHash(ovmf: Ovmf): Uint8Array {
  const ld = new LaunchDigest();
  ld.normalPages(ovmf.gpa, ovmf.data);
  return ld.digest;
}

/**
 * The expected MEASUREMENT of a guest booting this OVMF image.
 * @throws EvidenceError OVMF_MALFORMED, ConfigError MEASURE_*
 */
export function snpLaunchDigest(ovmf: Uint8Array | Ovmf, options: SnpLaunchOptions): Uint8Array {
  const firmware = ovmf instanceof Uint8Array ? parseOvmf(ovmf) : ovmf;
  return finish(new LaunchDigest(ovmfHash(firmware)), firmware, options);
}

/** The same from the firmware's layout and a published OVMF hash, without the image. */
export function snpLaunchDigestFromLayout(
  firmware: FirmwareLayout,
  ovmfHashValue: Uint8Array,
  options: SnpLaunchOptions,
): Uint8Array {
  return finish(new LaunchDigest(ovmfHashValue), firmware, options);
}
