/**
 * The measured SEV-SNP guest recipe, built here from this repository: the
 * initrd twice, byte for byte the same; its contents; its boot config's pins
 * as coreutils' sha256sum computes them; and the measurement `measure-snp
 * --boot-config` prints for it, which moves with every byte of the initrd.
 * Stated plainly: the kernel and the AmdSev OVMF are pinned inputs, not built
 * here; this test uses a fixed stand-in kernel and upstream's AmdSev firmware
 * fixture (its layout and kernel hashes table), so the digest is that of these
 * artefacts, not of a bootable guest. infra/images/snp/build.sh fetches and
 * checks the real ones.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '@veritee/mock/cli';
import { buildGuestImage, GUEST_APPEND, type GuestImage } from '../../src/snp/guest-image.js';
import { kernelHashesTable } from '../../src/snp/kernel-hashes.js';
import { snpLaunchDigest } from '../../src/snp/launch-digest.js';
import { vcpuTypeSignature } from '../../src/snp/cpu-types.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const FIRMWARE = join(ROOT, 'infra/test/snp/fixtures/ovmf_AmdSev_suffix.bin');
const tools = ['cpio', 'gzip', 'ldd'].every(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
);
const busybox = spawnSync('/bin/busybox', ['true']).status === 0;
const missing = tools && busybox ? undefined : 'needs cpio, gzip, ldd and busybox-static';
// CI installs them: there a missing tool is a failure, not a skip.
if (missing !== undefined && process.env['VERITEE_REQUIRE_IMAGE_TOOLS'] === '1')
  throw new Error(`VERITEE_REQUIRE_IMAGE_TOOLS=1 but the guest image ${missing}`);

const sha256sum = (path: string) =>
  execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0] ?? '';

describe('the measured SEV-SNP guest image', { skip: missing ?? false }, () => {
  let dir: string;
  let kernel: string;
  let first: GuestImage;
  let second: GuestImage;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-guest-'));
    kernel = join(dir, 'vmlinuz');
    await writeFile(
      kernel,
      new Uint8Array(256 * 1024).map((_, i) => (i * 131) % 251),
    );
    const build = (out: string) =>
      buildGuestImage({
        root: ROOT,
        outDir: join(dir, out),
        kernel,
        ovmf: FIRMWARE,
        vcpus: 4,
        vcpuType: 'EPYC-Milan',
        epoch: 1_764_720_000,
      });
    first = await build('a');
    second = await build('b');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('builds the same initrd twice, and pins what sha256sum computes', async () => {
    assert.equal(first.initrd.sha256, second.initrd.sha256);
    assert.equal(first.measurement, second.measurement);
    const config = JSON.parse(await readFile(first.bootConfig, 'utf8')) as Record<
      string,
      { path: string; sha256: string }
    >;
    for (const name of ['ovmf', 'kernel', 'initrd'])
      assert.equal(config[name]!.sha256, sha256sum(config[name]!.path), name);
    assert.equal(config['append'], GUEST_APPEND);
    assert.doesNotMatch(GUEST_APPEND, /root=/, 'no root filesystem: the initrd is the guest');
  });

  it('holds PID 1, Node, the enclave and its model, and nothing only simulation or tests need', () => {
    const listing = execFileSync(
      'sh',
      ['-c', `gzip -dc "$0" | cpio -tv --quiet`, first.initrd.path],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const entries = new Map(
      listing
        .trim()
        .split('\n')
        .map((line) => [line.split(/\s+/).at(-1)!, line]),
    );
    assert.match(entries.get('init') ?? '', /^-rwxr-xr-x\s+1 root\s+root /);
    for (const path of [
      'bin/busybox',
      'usr/local/bin/node',
      'opt/veritee/enclave/dist/main.js',
      'opt/veritee/enclave/build/tee-ioctl.node',
      'opt/veritee/enclave/models/guardrail.onnx',
      'opt/veritee/node_modules/@veritee/attestations/dist/index.js',
      'opt/veritee/node_modules/onnxruntime-node/package.json',
    ])
      assert.ok(entries.has(path), path);
    const paths = [...entries.keys()];
    for (const absent of [
      /node_modules\/@veritee\/mock\//,
      /node_modules\/aws-cdk-lib\//,
      /^opt\/veritee\/(?:enclave|node_modules\/@veritee\/[^/]+)\/(?:test|src)\//,
      /napi-v\d+\/(darwin|win32)/,
    ])
      assert.deepEqual(
        paths.filter((path) => absent.test(path)),
        [],
        String(absent),
      );
    // One owner, one time: nothing of the machine that built it.
    assert.ok([...entries.values()].every((line) => / root\s+root /.test(line)));
  });

  it('measures as measure-snp --boot-config does, and the measurement moves with the initrd', async () => {
    const printed = await runCli(['operator', 'measure-snp', '--boot-config', first.bootConfig]);
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(printed.stdout.trim(), first.measurement);
    const initrd = new Uint8Array(await readFile(first.initrd.path));
    const boot = { kernel: new Uint8Array(await readFile(kernel)), initrd, append: GUEST_APPEND };
    // The page the firmware measures holds the artefacts' SHA-256s as sha256sum computes them.
    const table = Buffer.from(kernelHashesTable(boot)).toString('hex');
    assert.ok(table.includes(sha256sum(first.initrd.path)) && table.includes(sha256sum(kernel)));
    const measure = (changed: typeof boot) =>
      Buffer.from(
        snpLaunchDigest(new Uint8Array(execFileSync('cat', [FIRMWARE])), {
          vcpus: 4,
          cpuSignature: vcpuTypeSignature('EPYC-Milan'),
          boot: changed,
        }),
      ).toString('hex');
    assert.equal(measure(boot), first.measurement);
    const flipped = Uint8Array.from(initrd);
    flipped[flipped.length - 100] = (flipped[flipped.length - 100] ?? 0) ^ 1;
    assert.notEqual(measure({ ...boot, initrd: flipped }), first.measurement);
    assert.notEqual(
      measure({ ...boot, append: `${GUEST_APPEND} init=/bin/sh` }),
      first.measurement,
    );
  });
});
