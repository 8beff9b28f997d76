/**
 * SEV-SNP quotes through the Linux configfs-tsm report interface
 * (Documentation/ABI/testing/configfs-tsm): create an entry under
 * /sys/kernel/config/tsm/report, write the 64 bytes to `inblob`, read the
 * report from `outblob` and the certificate table from `auxblob`, and check
 * that `generation` moved by exactly one write, so no other writer raced us.
 * The file operations are injected so a configfs-shaped stand-in can test it.
 */
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import { SNP_REPORT_SIZE } from '@veritee/attestations/snp';
import { REPORT_DATA_SIZE } from '@veritee/attestations/wire';
import type { TeeProvider } from './provider.js';

export const CONFIGFS_TSM_REPORT = '/sys/kernel/config/tsm/report';

/** The file operations configfs needs; node:fs/promises by default. */
export interface ConfigfsOps {
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
}

export const nodeConfigfsOps: ConfigfsOps = {
  mkdir: (path) => mkdir(path),
  rmdir: (path) => rmdir(path),
  writeFile: (path, data) => writeFile(path, data),
  readFile: async (path) => new Uint8Array(await readFile(path)),
};

export interface ConfigfsSnpOptions {
  /** Default /sys/kernel/config/tsm/report. */
  readonly root?: string;
  /** VMPL to request (`privlevel`); unset leaves the kernel's default (0). */
  readonly privlevel?: number;
  readonly ops?: ConfigfsOps;
}

/**
 * @throws ConfigError TEE_UNAVAILABLE (at first quote) when the entry cannot be created or is not sev_guest
 */
export function createConfigfsSnpTee(options: ConfigfsSnpOptions = {}): TeeProvider {
  const root = options.root ?? CONFIGFS_TSM_REPORT;
  const ops = options.ops ?? nodeConfigfsOps;
  // One entry per quote, and quotes one at a time: the kernel serializes them anyway.
  let queue: Promise<unknown> = Promise.resolve();

  async function quoteOnce(reportData: Uint8Array): Promise<Uint8Array> {
    if (reportData.byteLength !== REPORT_DATA_SIZE)
      throw new UpstreamError(
        'TEE_QUOTE_FAILED',
        `report data is ${reportData.byteLength} bytes; expected 64`,
      );
    const entry = join(root, `veritee-${randomBytes(8).toString('hex')}`);
    try {
      await ops.mkdir(entry);
    } catch (error) {
      throw new ConfigError('TEE_UNAVAILABLE', `configfs-tsm is not available at ${root}`, {
        cause: error,
      });
    }
    try {
      const provider = Buffer.from(await ops.readFile(join(entry, 'provider')))
        .toString('utf8')
        .trim();
      if (provider !== 'sev_guest')
        throw new ConfigError(
          'TEE_UNAVAILABLE',
          `configfs-tsm provider is ${JSON.stringify(provider.slice(0, 32))}; expected sev_guest`,
        );
      if (options.privlevel !== undefined)
        await ops.writeFile(join(entry, 'privlevel'), String(options.privlevel));
      const before = await generation(ops, entry);
      await ops.writeFile(join(entry, 'inblob'), reportData);
      const outblob = await ops.readFile(join(entry, 'outblob'));
      let auxblob: Uint8Array = new Uint8Array(0);
      try {
        auxblob = await ops.readFile(join(entry, 'auxblob'));
      } catch {
        // No certificates provisioned by the host: the verifier fetches the VCEK from KDS.
      }
      const after = await generation(ops, entry);
      if (after !== before + 1)
        throw new UpstreamError(
          'TEE_QUOTE_FAILED',
          'another writer changed the configfs-tsm entry during the quote',
        );
      if (outblob.byteLength !== SNP_REPORT_SIZE)
        throw new UpstreamError(
          'TEE_QUOTE_FAILED',
          `outblob is ${outblob.byteLength} bytes; expected ${SNP_REPORT_SIZE}`,
        );
      const evidence = new Uint8Array(outblob.byteLength + auxblob.byteLength);
      evidence.set(outblob);
      evidence.set(auxblob, outblob.byteLength);
      return evidence;
    } finally {
      await ops.rmdir(entry).catch(() => undefined);
    }
  }

  return {
    kind: 'sev-snp',
    simulated: false,
    description: `AMD SEV-SNP via configfs-tsm (${root})`,
    quote: ({ reportData }) => {
      const result = queue.then(() => quoteOnce(reportData));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}

async function generation(ops: ConfigfsOps, entry: string): Promise<number> {
  const text = Buffer.from(await ops.readFile(join(entry, 'generation')))
    .toString('utf8')
    .trim();
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new UpstreamError('TEE_QUOTE_FAILED', 'configfs-tsm generation is not a number');
  return value;
}
