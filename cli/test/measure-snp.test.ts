/** `veritee operator measure-snp` as an operator runs it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOvmf, snpLaunchDigest, vcpuTypeSignature } from '@veritee/infra';
import { toHex } from '@veritee/attestations';
import { debianOvmf, DEBIAN_OVMF } from '@veritee/mock/ovmf';
import { runCli } from '@veritee/mock/cli';

describe('veritee operator measure-snp', () => {
  it('prints the launch measurement of Debian’s OVMF as the library computes it', async (t) => {
    const image = debianOvmf();
    if (image === undefined) return t.skip('Debian OVMF not installed (apt install ovmf)');
    const expected = toHex(
      snpLaunchDigest(parseOvmf(image), {
        vcpus: 2,
        cpuSignature: vcpuTypeSignature('EPYC-Milan'),
      }),
    );
    const measure = (...args: string[]) =>
      runCli(['operator', 'measure-snp', '--ovmf', DEBIAN_OVMF, '--vcpus', '2', ...args]);
    const text = await measure('--vcpu-type', 'EPYC-Milan');
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout, `${expected}\n`);
    assert.match(text.stderr, /2 x EPYC-Milan vCPUs on qemu/);
    assert.match(text.stderr, /the guest's kernel and disk are not covered/);
    const json = await measure('--vmm', 'ec2', '--json');
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as {
      measurement: string;
      vmm: string;
      guestCodeMeasured: boolean;
    };
    assert.equal(parsed.vmm, 'ec2');
    assert.equal(parsed.guestCodeMeasured, false);
    assert.notEqual(parsed.measurement, expected, 'EC2 launches differ from QEMU');
    assert.match(parsed.measurement, /^[0-9a-f]{96}$/);
  });

  it('measures what infra/images/snp/boot.json pins, and refuses a file that differs from its pin', async (t) => {
    const image = debianOvmf();
    if (image === undefined) return t.skip('Debian OVMF not installed (apt install ovmf)');
    const pinned = await runCli([
      'operator',
      'measure-snp',
      '--boot-config',
      'infra/images/snp/boot.json',
      '--json',
    ]);
    assert.equal(pinned.status, 0, pinned.stderr);
    const expected = toHex(
      snpLaunchDigest(parseOvmf(image), {
        vcpus: 4,
        cpuSignature: vcpuTypeSignature('EPYC-Milan'),
      }),
    );
    assert.equal((JSON.parse(pinned.stdout) as { measurement: string }).measurement, expected);

    const dir = await mkdtemp(join(tmpdir(), 'veritee-boot-'));
    try {
      const patched = Uint8Array.from(image);
      patched[0] = (patched[0] ?? 0) ^ 1;
      await writeFile(join(dir, 'OVMF.fd'), patched);
      const config = JSON.parse(await readFile('infra/images/snp/boot.json', 'utf8')) as {
        ovmf: { path: string };
      };
      config.ovmf.path = 'OVMF.fd'; // relative to the config file
      await writeFile(join(dir, 'boot.json'), JSON.stringify(config));
      const result = await runCli([
        'operator',
        'measure-snp',
        '--boot-config',
        join(dir, 'boot.json'),
      ]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /MEASURE_PIN_MISMATCH/);
      assert.equal(result.stdout, '', 'no measurement for an unpinned input');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear message and a usage status on bad input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-measure-'));
    try {
      const notOvmf = join(dir, 'not-ovmf.fd');
      await writeFile(notOvmf, new Uint8Array(8192));
      const cases: [string[], RegExp][] = [
        [['--vcpus', '1'], /needs --ovmf and --vcpus/],
        [['--ovmf', notOvmf, '--vcpus', 'two'], /--vcpus is a whole number/],
        [['--ovmf', notOvmf, '--vcpus', '1', '--vmm', 'xen'], /--vmm is qemu or ec2/],
        [['--ovmf', join(dir, 'absent.fd'), '--vcpus', '1'], /cannot read the OVMF file/],
        [
          ['--ovmf', notOvmf, '--vcpus', '1', '--append', 'ro'],
          /--initrd and --append go with --kernel/,
        ],
      ];
      for (const [args, message] of cases) {
        const result = await runCli(['operator', 'measure-snp', ...args]);
        assert.equal(result.status, 64, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }
      const result = await runCli(['operator', 'measure-snp', '--ovmf', notOvmf, '--vcpus', '1']);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /OVMF_MALFORMED/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
