/**
 * The initial VM save area (VMSA) of each vCPU, which SNP_LAUNCH_UPDATE
 * measures: the register state KVM gives a vCPU at reset (AMD APM vol. 2,
 * table B-4 for the layout). The bootstrap processor starts at the reset
 * vector 0xfffffff0; application processors at OVMF's SEV-ES reset block.
 * QEMU and EC2 differ in a few segment attributes, in RDX (QEMU passes the
 * vCPU's CPUID signature, EC2 0x600) and in the initial FPU control words.
 */
export const BSP_EIP = 0xfffffff0;
/** RDX at reset on EC2, as its live launch measurements show. */
export const EC2_RESET_RDX = 0x600;
export type VmmType = 'qemu' | 'ec2';

// Offsets of the fields set at reset, from the SEV-ES save area layout.
const SEGMENTS = { es: 0x00, cs: 0x10, ss: 0x20, ds: 0x30, fs: 0x40, gs: 0x50 } as const;
const GDTR = 0x60;
const LDTR = 0x70;
const IDTR = 0x80;
const TR = 0x90;
const EFER = 0xd0;
const CR4 = 0x148;
const CR0 = 0x158;
const DR7 = 0x160;
const DR6 = 0x168;
const RFLAGS = 0x170;
const RIP = 0x178;
const G_PAT = 0x268;
const RDX = 0x310;
const SEV_FEATURES = 0x3b0;
const XCR0 = 0x3e8;
const MXCSR = 0x408;
const X87_FCW = 0x410;

export interface VmsaOptions {
  readonly eip: number;
  /** The SEV features the guest runs with (bit 0: SNP active). */
  readonly sevFeatures: bigint;
  readonly cpuSignature: number;
  readonly vmm: VmmType;
}

/** One 4 KiB VMSA page. */
export function buildVmsa(options: VmsaOptions): Uint8Array {
  const page = new Uint8Array(4096);
  const view = new DataView(page.buffer);
  const segment = (at: number, selector: number, attributes: number, limit: number, base = 0) => {
    view.setUint16(at, selector, true);
    view.setUint16(at + 2, attributes, true);
    view.setUint32(at + 4, limit, true);
    view.setBigUint64(at + 8, BigInt(base), true);
  };
  const u64 = (at: number, value: bigint | number) => view.setBigUint64(at, BigInt(value), true);
  const ec2 = options.vmm === 'ec2';
  const csAttributes = ec2 && options.eip === BSP_EIP ? 0x9a : 0x9b;
  for (const [name, at] of Object.entries(SEGMENTS)) {
    if (name === 'cs') segment(at, 0xf000, csAttributes, 0xffff, (options.eip & 0xffff0000) >>> 0);
    else if (name === 'ss') segment(at, 0, ec2 ? 0x92 : 0x93, 0xffff);
    else segment(at, 0, 0x93, 0xffff);
  }
  segment(GDTR, 0, 0, 0xffff);
  segment(LDTR, 0, 0x82, 0xffff);
  segment(IDTR, 0, 0, 0xffff);
  segment(TR, 0, ec2 ? 0x83 : 0x8b, 0xffff);
  u64(EFER, 0x1000); // KVM sets EFER.SVME
  u64(CR4, 0x40); // KVM sets CR4.MCE
  u64(CR0, 0x10);
  u64(DR7, 0x400);
  u64(DR6, 0xffff0ff0);
  u64(RFLAGS, 0x2);
  u64(RIP, options.eip & 0xffff);
  u64(G_PAT, 0x0007040600070406n); // the PAT MSR's reset value (APM vol. 2, A.3)
  // EC2 starts every vCPU with RDX 0x600 (family 6, the x86 reset value), not the
  // CPUID signature QEMU passes: live EC2 measurements match only with it
  // (virtee/sev-snp-measure changed from 0 to 0x600 on 2026-04-28 for this reason).
  u64(RDX, ec2 ? EC2_RESET_RDX : options.cpuSignature);
  u64(SEV_FEATURES, options.sevFeatures);
  u64(XCR0, 0x1);
  if (!ec2) {
    // QEMU with current KVM starts each vCPU with the FPU in its FNINIT state.
    view.setUint32(MXCSR, 0x1f80, true);
    view.setUint16(X87_FCW, 0x37f, true);
  }
  return page;
}
