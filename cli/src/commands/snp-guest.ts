/**
 * `veritee operator snp-guest`: builds the measured SEV-SNP guest from this
 * repository (an initrd holding the enclave, its model and its runtime) and
 * its boot config, and prints the launch measurement to register. The kernel
 * and the OVMF (AmdSev build) are inputs the operator pins; see
 * infra/images/snp/build.sh, which fetches and checks them first.
 */
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildGuestImage, VCPU_TYPES } from '@veritee/infra';
import { parseSealedModel } from '@veritee/attestations/seal';
import { UsageError } from '../usage-error.js';
import { readInput } from '../input-file.js';
import { repositoryRoot } from '../package-info.js';

export const SNP_GUEST_USAGE = `Usage: veritee operator snp-guest --kernel <bzImage> --ovmf <OVMF.fd> --out <dir> [options]

Builds the measured SEV-SNP guest: <dir>/initrd.img (busybox, Node, the
enclave with its production dependencies and model; reproducible) and
<dir>/boot.json (veritee.snp-boot/v1: firmware, kernel and initrd pinned by
SHA-256, and the command line), then prints the launch measurement QEMU with
these inputs gives (launch-qemu.sh <dir>/boot.json boots it).
  --kernel <file>        the guest kernel, pinned (infra/images/snp/pins.env)
  --ovmf <file>          OVMF built from edk2 OvmfPkg/AmdSev (kernel hashes)
  --out <dir>            where initrd.img and boot.json go
  --vcpus <n>            default 4
  --vcpu-type <name>     default EPYC-Milan: ${Object.keys(VCPU_TYPES).join(', ')}
  --module <file.ko>     a kernel module the guest loads at boot; repeat, in order
  --sealed-model <file> --model-config <file> --key-broker <url>
                         a sealed model (veritee operator seal-model) whose key the
                         verifier's key broker releases to this measurement
  --epoch <seconds>      file times (default $SOURCE_DATE_EPOCH, else 0)
  --json                 one JSON object
`;

export async function runSnpGuest(
  argv: readonly string[],
  write: (text: string) => void,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kernel: { type: 'string' },
      ovmf: { type: 'string' },
      out: { type: 'string' },
      vcpus: { type: 'string', default: '4' },
      'vcpu-type': { type: 'string', default: 'EPYC-Milan' },
      module: { type: 'string', multiple: true },
      'sealed-model': { type: 'string' },
      'model-config': { type: 'string' },
      'key-broker': { type: 'string' },
      epoch: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    write(SNP_GUEST_USAGE);
    return 0;
  }
  const { kernel, ovmf, out } = values;
  if (kernel === undefined || ovmf === undefined || out === undefined)
    throw new UsageError('snp-guest needs --kernel, --ovmf and --out');
  const vcpus = Number(values.vcpus);
  if (!Number.isSafeInteger(vcpus) || vcpus < 1 || vcpus > 512)
    throw new UsageError('--vcpus takes a count from 1 to 512');
  if (!(values['vcpu-type'] in VCPU_TYPES))
    throw new UsageError(`--vcpu-type: one of ${Object.keys(VCPU_TYPES).join(', ')}`);
  const epoch = Number(values.epoch ?? env['SOURCE_DATE_EPOCH'] ?? 0);
  if (!Number.isSafeInteger(epoch) || epoch < 0)
    throw new UsageError('--epoch takes seconds since 1970');
  const sealed = [values['sealed-model'], values['model-config'], values['key-broker']];
  if (sealed.some((value) => value !== undefined) && sealed.some((value) => value === undefined))
    throw new UsageError('--sealed-model, --model-config and --key-broker go together');
  await mkdir(out, { recursive: true });
  const image = await buildGuestImage({
    root: repositoryRoot(),
    outDir: out,
    kernel,
    ovmf,
    vcpus,
    vcpuType: values['vcpu-type'],
    epoch,
    modules: values.module,
    sealedModel:
      values['sealed-model'] === undefined
        ? undefined
        : {
            file: values['sealed-model'],
            config: values['model-config'] ?? '',
            // The pin is the weights' SHA-256 from the sealed header, which the GCM tag authenticates.
            sha256: parseSealedModel(await readInput(values['sealed-model'], 'sealed model')).header
              .sha256,
            keyBrokerUrl: values['key-broker'] ?? '',
          },
  });
  write(
    values.json
      ? `${JSON.stringify(image)}\n`
      : [
          `initrd          ${image.initrd.path} (${image.initrd.bytes} bytes, sha256 ${image.initrd.sha256})`,
          `boot config     ${image.bootConfig}`,
          `measurement     ${image.measurement}`,
          `register it     veritee operator register --measurement ${image.measurement}`,
          '',
        ].join('\n'),
  );
  return 0;
}
