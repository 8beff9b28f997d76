/**
 * The launch digests virtee/sev-snp-measure publishes in its tests
 * (tests/test_guest.py), on its own firmware fixtures: QEMU with and without
 * measured direct boot, the standard OVMF build, several vCPUs, a digest
 * continued from a given OVMF hash, and EC2 as EC2 launches guests today
 * (RDX 0x600). GCE and SEV-ES, which Veritee does not measure, are left out.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, EvidenceError } from '@veritee/attestations';
import {
  ovmfHash,
  snpLaunchDigest,
  snpLaunchDigestFromLayout,
} from '../../src/snp/launch-digest.js';
import { parseOvmf } from '../../src/snp/ovmf.js';
import { vcpuTypeSignature } from '../../src/snp/cpu-types.js';
import type { DirectBoot } from '../../src/snp/kernel-hashes.js';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const AMD_SEV = fixture('ovmf_AmdSev_suffix.bin');
const OVMF_X64 = fixture('ovmf_OvmfX64_suffix.bin');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const EPYC_V4 = vcpuTypeSignature('EPYC-v4');
// Upstream's "/dev/null" kernel and initrd: empty files, measured as such.
const empty = (append: string): DirectBoot => ({
  kernel: new Uint8Array(0),
  initrd: new Uint8Array(0),
  append,
});
const CONSOLE = 'console=ttyS0 loglevel=7';
const GIVEN_OVMF_HASH =
  '086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74';

const cases: Array<{
  name: string;
  firmware: Uint8Array;
  vcpus: number;
  features: bigint;
  boot?: DirectBoot;
  vmm?: 'ec2';
  givenOvmfHash?: string;
  digest: string;
}> = [
  {
    name: 'ovmf_hash_gen_default',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x21n,
    boot: empty(''),
    givenOvmfHash: GIVEN_OVMF_HASH,
    digest:
      '329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198',
  },
  {
    name: 'ovmf_hash_gen_feature_snp_only',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x1n,
    boot: empty(''),
    givenOvmfHash: GIVEN_OVMF_HASH,
    digest:
      'ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5',
  },
  {
    name: 'ec2_default',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x21n,
    boot: empty(''),
    vmm: 'ec2',
    digest:
      '0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb',
  },
  {
    name: 'ec2_feature_snp_only',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x1n,
    boot: empty(''),
    vmm: 'ec2',
    digest:
      '0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056',
  },
  {
    name: 'snp_default',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x21n,
    boot: empty(CONSOLE),
    digest:
      '803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977',
  },
  {
    name: 'guest_feature_snp_only',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x1n,
    boot: empty(CONSOLE),
    digest:
      '6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa',
  },
  {
    name: 'without_kernel_default',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x21n,
    digest:
      'e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b',
  },
  {
    name: 'without_kernel_feature_snp_only',
    firmware: AMD_SEV,
    vcpus: 1,
    features: 0x1n,
    digest:
      '19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d',
  },
  {
    name: 'with_multiple_vcpus_default',
    firmware: AMD_SEV,
    vcpus: 4,
    features: 0x21n,
    boot: empty(''),
    digest:
      '4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942',
  },
  {
    name: 'with_multiple_vcpus_feature_snp_only',
    firmware: AMD_SEV,
    vcpus: 4,
    features: 0x1n,
    boot: empty(''),
    digest:
      '5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5',
  },
  {
    name: 'with_ovmfx64_without_default',
    firmware: OVMF_X64,
    vcpus: 1,
    features: 0x21n,
    digest:
      '28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385',
  },
  {
    name: 'with_ovmfx64_without_kernel_feature_snp_only',
    firmware: OVMF_X64,
    vcpus: 1,
    features: 0x1n,
    digest:
      'da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005',
  },
];

describe('launch digests published by virtee/sev-snp-measure', () => {
  it('hashes the AmdSev fixture as upstream does', () => {
    assert.equal(hex(ovmfHash(parseOvmf(AMD_SEV))), GIVEN_OVMF_HASH);
  });

  for (const vector of cases)
    it(`reproduces test_snp_${vector.name.replace(/^snp_/, '')}`, () => {
      const options = {
        vcpus: vector.vcpus,
        cpuSignature: EPYC_V4,
        guestFeatures: vector.features,
        ...(vector.boot === undefined ? {} : { boot: vector.boot }),
        ...(vector.vmm === undefined ? {} : { vmm: vector.vmm }),
      };
      const digest =
        vector.givenOvmfHash === undefined
          ? snpLaunchDigest(vector.firmware, options)
          : snpLaunchDigestFromLayout(
              parseOvmf(vector.firmware),
              Buffer.from(vector.givenOvmfHash, 'hex'),
              options,
            );
      assert.equal(hex(digest), vector.digest);
    });

  it('refuses a kernel for firmware without a kernel hashes section, as upstream does', () => {
    assert.throws(
      () => snpLaunchDigest(OVMF_X64, { vcpus: 1, cpuSignature: EPYC_V4, boot: empty('') }),
      (error: unknown) => error instanceof ConfigError || error instanceof EvidenceError,
    );
  });
});
