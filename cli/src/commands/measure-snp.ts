/**
 * `veritee operator measure-snp`: the launch measurement an SEV-SNP guest will
 * report, computed from its boot inputs before it is launched, so an operator
 * can register it (`veritee operator register --measurement`).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, toHex } from '@veritee/attestations';
import { parseOvmf, snpLaunchDigest, vcpuTypeSignature, VCPU_TYPES } from '@veritee/infra';
import { UsageError } from '../usage-error.js';

export const MEASURE_SNP_USAGE = `Usage: veritee operator measure-snp --ovmf <file> --vcpus <n> [options]

Computes the SEV-SNP launch measurement of a guest from what it boots.
  --boot-config <file>   a veritee.snp-boot/v1 file (infra/images/snp/boot.json):
                         every input from it, each file checked against its sha256 pin
  --ovmf <file>          the OVMF firmware image (e.g. /usr/share/ovmf/OVMF.fd)
  --vcpus <n>            number of vCPUs
  --vcpu-type <name>     QEMU's -cpu model (default EPYC-v4): ${Object.keys(VCPU_TYPES).join(', ')}
  --vmm <qemu|ec2>       who launches the guest (default qemu); ec2 for EC2 SEV-SNP instances
  --kernel <file>        measured direct boot (needs an OVMF with kernel hashes, OvmfPkg/AmdSev)
  --initrd <file>        with --kernel
  --append <cmdline>     with --kernel
  --guest-features <hex> SEV_FEATURES of the guest (default 0x1)
  --json                 one JSON object
`;

async function readInput(path: string | undefined, what: string): Promise<Uint8Array | undefined> {
  if (path === undefined) return undefined;
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new UsageError(`cannot read the ${what} file ${JSON.stringify(path)}`);
  }
}

export async function runMeasureSnp(
  argv: readonly string[],
  write: (text: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'boot-config': { type: 'string' },
      ovmf: { type: 'string' },
      vcpus: { type: 'string' },
      'vcpu-type': { type: 'string', default: 'EPYC-v4' },
      vmm: { type: 'string', default: 'qemu' },
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      append: { type: 'string' },
      'guest-features': { type: 'string', default: '0x1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    write(MEASURE_SNP_USAGE);
    return 0;
  }
  if (values['boot-config'] !== undefined)
    Object.assign(values, await bootConfig(values['boot-config']));
  if (values.ovmf === undefined || values.vcpus === undefined)
    throw new UsageError('measure-snp needs --ovmf and --vcpus');
  const vcpus = Number(values.vcpus);
  if (!/^\d+$/.test(values.vcpus) || vcpus < 1 || vcpus > 512)
    throw new UsageError('--vcpus is a whole number from 1 to 512');
  const vmm = values.vmm;
  if (vmm !== 'qemu' && vmm !== 'ec2') throw new UsageError('--vmm is qemu or ec2');
  if (!/^(0x)?[0-9a-f]{1,16}$/i.test(values['guest-features']))
    throw new UsageError('--guest-features is a hexadecimal number');
  if (values.kernel === undefined && (values.initrd !== undefined || values.append !== undefined))
    throw new UsageError('--initrd and --append go with --kernel');
  const firmware = parseOvmf((await readInput(values.ovmf, 'OVMF'))!);
  const kernel = await readInput(values.kernel, 'kernel');
  const boot =
    kernel === undefined
      ? undefined
      : { kernel, initrd: await readInput(values.initrd, 'initrd'), append: values.append };
  const vcpuType = values['vcpu-type'];
  const measurement = toHex(
    snpLaunchDigest(firmware, {
      vcpus,
      cpuSignature: vcpuTypeSignature(vcpuType),
      vmm,
      guestFeatures: BigInt(`0x${values['guest-features'].replace(/^0x/i, '')}`),
      boot,
    }),
  );
  if (values.json) {
    write(
      `${JSON.stringify({ measurement, vcpus, vcpuType, vmm, ovmf: values.ovmf, kernel: values.kernel ?? null, initrd: values.initrd ?? null, append: values.append ?? null, guestCodeMeasured: boot !== undefined })}\n`,
    );
  } else {
    write(`${measurement}\n`);
    process.stderr.write(
      `SEV-SNP launch measurement: ${vcpus} x ${vcpuType} vCPUs on ${vmm}, OVMF ${values.ovmf}` +
        (boot === undefined
          ? ", no direct boot: the guest's kernel and disk are not covered\n"
          : `, kernel ${values.kernel}\n`),
    );
  }
  return 0;
}

interface PinnedFile {
  readonly path: string;
  readonly sha256: string;
}

/**
 * The options a `veritee.snp-boot/v1` file pins, with each file checked
 * against its digest: a measurement of the wrong firmware is worse than none.
 * @throws ConfigError MEASURE_PIN_MISMATCH, CONFIG_INVALID
 */
async function bootConfig(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`cannot read the boot config ${JSON.stringify(path)}`);
  });
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError('CONFIG_INVALID', `${path} is not JSON`);
  }
  if (config['format'] !== 'veritee.snp-boot/v1')
    throw new ConfigError('CONFIG_INVALID', `${path}: format is not veritee.snp-boot/v1`);
  const pinned = async (name: string): Promise<string | undefined> => {
    const file = config[name] as PinnedFile | undefined | null;
    if (file === undefined || file === null) return undefined;
    if (typeof file.path !== 'string' || !/^[0-9a-f]{64}$/.test(String(file.sha256)))
      throw new ConfigError('CONFIG_INVALID', `${path}: ${name} needs a path and a sha256`);
    const where = resolve(dirname(path), file.path);
    const bytes = await readFile(where).catch(() => {
      throw new UsageError(`cannot read the ${name} file ${JSON.stringify(where)}`);
    });
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== file.sha256)
      throw new ConfigError(
        'MEASURE_PIN_MISMATCH',
        `${where} has sha256 ${digest}, but ${path} pins ${file.sha256}`,
      );
    return where;
  };
  const options: Record<string, string> = {};
  const set = (key: string, value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number') options[key] = String(value);
    else if (value !== undefined && value !== null)
      throw new ConfigError('CONFIG_INVALID', `${path}: ${key} must be a string or a number`);
  };
  set('ovmf', await pinned('ovmf'));
  set('kernel', await pinned('kernel'));
  set('initrd', await pinned('initrd'));
  set('append', config['append']);
  set('vcpus', config['vcpus']);
  set('vcpu-type', config['vcpuType']);
  set('vmm', config['vmm']);
  set('guest-features', config['guestFeatures']);
  return options;
}
