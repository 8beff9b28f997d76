/**
 * The SEV-SNP launch digest: reproduces published reference digests, reads
 * Debian's OVMF, and covers measured direct boot on a synthetic AmdSev-style
 * image.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ConfigError, EvidenceError } from '@veritee/attestations';
import { cpuSignature, vcpuTypeSignature } from '../../src/snp/cpu-types.js';
import { kernelHashesTable } from '../../src/snp/kernel-hashes.js';
import {
  ovmfHash,
  snpLaunchDigest,
  snpLaunchDigestFromLayout,
} from '../../src/snp/launch-digest.js';
import { parseOvmf } from '../../src/snp/ovmf.js';
import { BSP_EIP, buildVmsa } from '../../src/snp/vmsa.js';
import { debianOvmf, OVMF_X64_SECTIONS, syntheticOvmf } from '@veritee/mock/ovmf';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const code = (expected: string) => (error: unknown) =>
  (error instanceof EvidenceError || error instanceof ConfigError) && error.code === expected;

describe('snpLaunchDigest', () => {
  // Digests published by others are checked in upstream-digests.test.ts.
  it("reads Debian's OVMF: the same layout, and a digest that continues from the image's hash", (t) => {
    const image = debianOvmf();
    if (image === undefined) return t.skip('Debian OVMF not installed (apt install ovmf)');
    const ovmf = parseOvmf(image);
    assert.deepEqual(ovmf.sections, OVMF_X64_SECTIONS);
    assert.equal(ovmf.resetEip, 0x80b004);
    assert.equal(ovmf.gpa, 0x1_0000_0000 - image.byteLength);
    assert.equal(ovmf.hashesTableGpa, undefined, 'OvmfPkgX64 has no kernel hashes table');
    const options = { vcpus: 4, cpuSignature: vcpuTypeSignature('EPYC-Milan') };
    assert.deepEqual(
      snpLaunchDigest(image, options),
      snpLaunchDigestFromLayout(ovmf, ovmfHash(ovmf), options),
    );
    const digests = new Set(
      [
        { vcpus: 1, cpuSignature: vcpuTypeSignature('EPYC-v4') },
        { vcpus: 2, cpuSignature: vcpuTypeSignature('EPYC-v4') },
        { vcpus: 2, cpuSignature: vcpuTypeSignature('EPYC-Genoa') },
        { vcpus: 2, cpuSignature: 0, vmm: 'ec2' as const },
      ].map((o) => hex(snpLaunchDigest(ovmf, o))),
    );
    assert.equal(digests.size, 4, 'vCPU count, vCPU type and VMM each change the digest');
    const patched = Uint8Array.from(image);
    patched[0x1000] = (patched[0x1000] ?? 0) ^ 1;
    assert.notDeepEqual(snpLaunchDigest(patched, options), snpLaunchDigest(image, options));
    assert.throws(
      () => snpLaunchDigest(ovmf, { ...options, boot: { kernel: new Uint8Array(1) } }),
      code('MEASURE_NO_KERNEL_HASHES'),
    );
  });

  it('measures the kernel, initrd and command line of a direct boot through the hashes page', () => {
    const image = syntheticOvmf({
      sections: [...OVMF_X64_SECTIONS, { gpa: 0x810000 + 0x10000, size: 0x1000, type: 0x10 }],
      resetEip: 0x80b004,
      hashesTableGpa: 0x820c00,
    });
    const base = { vcpus: 1, cpuSignature: vcpuTypeSignature('EPYC-v4') };
    const kernel = new TextEncoder().encode('a kernel');
    const boot = { kernel, initrd: new Uint8Array([1, 2]), append: 'console=ttyS0' };
    const digests = [
      snpLaunchDigest(image, base),
      snpLaunchDigest(image, { ...base, boot }),
      snpLaunchDigest(image, { ...base, boot: { ...boot, append: 'console=ttyS1' } }),
      snpLaunchDigest(image, { ...base, boot: { ...boot, initrd: undefined } }),
      snpLaunchDigest(image, { ...base, boot: { ...boot, kernel: new Uint8Array(8) } }),
    ].map(hex);
    assert.equal(new Set(digests).size, digests.length, 'each input changes the digest');
    assert.equal(hex(snpLaunchDigest(image, { ...base, boot })), digests[1], 'deterministic');
  });

  it('refuses images that are not OVMF with SEV metadata, and bad vCPU counts', () => {
    const image = syntheticOvmf({ sections: OVMF_X64_SECTIONS, resetEip: 0x80b004 });
    const options = { vcpus: 1, cpuSignature: 0 };
    assert.throws(() => snpLaunchDigest(image.subarray(0, 4000), options), code('OVMF_MALFORMED'));
    const noFooter = Uint8Array.from(image);
    noFooter[image.byteLength - 40] = (noFooter[image.byteLength - 40] ?? 0) ^ 0xff;
    assert.throws(() => snpLaunchDigest(noFooter, options), code('OVMF_MALFORMED'));
    const badSignature = Uint8Array.from(image);
    badSignature[image.byteLength - 2048] = 0;
    assert.throws(() => snpLaunchDigest(badSignature, options), code('OVMF_MALFORMED'));
    const unknown = syntheticOvmf({
      sections: [{ gpa: 0x800000, size: 0x1000, type: 9 }],
      resetEip: 0x80b004,
    });
    assert.throws(() => snpLaunchDigest(unknown, options), code('MEASURE_UNKNOWN_SECTION'));
    assert.throws(
      () => snpLaunchDigest(image, { ...options, vcpus: 0 }),
      code('MEASURE_BAD_VCPUS'),
    );
    assert.throws(
      () => snpLaunchDigestFromLayout(parseOvmf(image), new Uint8Array(32), options),
      code('MEASURE_BAD_OVMF_HASH'),
    );
    assert.throws(() => vcpuTypeSignature('EPYC-Future'), code('MEASURE_UNKNOWN_VCPU_TYPE'));
  });
});

describe('buildVmsa', () => {
  it('starts the bootstrap processor at the reset vector and the others at OVMF’s', () => {
    const u64 = (page: Uint8Array, at: number) => new DataView(page.buffer).getBigUint64(at, true);
    const bsp = buildVmsa({ eip: BSP_EIP, sevFeatures: 1n, cpuSignature: 0x800f12, vmm: 'qemu' });
    assert.equal(u64(bsp, 0x18), 0xffff0000n, 'CS base');
    assert.equal(u64(bsp, 0x178), 0xfff0n, 'RIP');
    assert.equal(u64(bsp, 0x310), 0x800f12n, 'RDX holds the CPUID signature');
    assert.equal(u64(bsp, 0x3b0), 1n, 'SEV_FEATURES: SNP active');
    const ap = buildVmsa({ eip: 0x80b004, sevFeatures: 1n, cpuSignature: 0x800f12, vmm: 'ec2' });
    assert.equal(u64(ap, 0x18), 0x800000n);
    assert.equal(u64(ap, 0x178), 0xb004n);
    assert.equal(u64(ap, 0x310), 0x600n, 'EC2 starts RDX at 0x600, not the signature');
  });

  it('computes CPUID signatures as AMD defines them', () => {
    assert.equal(cpuSignature(23, 1, 2), 0x00800f12); // EPYC (Naples)
    assert.equal(cpuSignature(25, 1, 1), 0x00a00f11); // Milan
    assert.equal(cpuSignature(25, 17, 0), 0x00a10f10); // Genoa
  });
});

describe('kernelHashesTable', () => {
  it('lays out QEMU’s table: header GUID, length, then command line, initrd and kernel', () => {
    const kernel = new Uint8Array([7, 7, 7]);
    const table = kernelHashesTable({ kernel, append: 'ro' });
    const view = new DataView(table.buffer);
    assert.equal(table.byteLength, 176, '168 bytes padded to 16');
    assert.equal(view.getUint16(16, true), 168);
    const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    assert.equal(hex(table.subarray(18 + 18, 18 + 50)), sha(new TextEncoder().encode('ro\0')));
    assert.equal(hex(table.subarray(68 + 18, 68 + 50)), sha(new Uint8Array()));
    assert.equal(hex(table.subarray(118 + 18, 118 + 50)), sha(kernel));
    assert.equal(hex(table.subarray(0, 4)), '06d63894', 'the header GUID, mixed-endian');
  });
});
