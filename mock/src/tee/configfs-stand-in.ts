/**
 * A stand-in for the kernel's configfs-tsm report interface, in memory: mkdir
 * creates an entry with `provider` and `generation`; writing `inblob` bumps
 * the generation; reading `outblob`/`auxblob` returns a report for the last
 * inblob, made by the simulator as the SEV firmware would make it.
 */
import { basename, dirname } from 'node:path';
import type { Simulator } from '@veritee/attestations/sim';

/** The file operations the enclave's configfs-tsm provider makes (structurally its ConfigfsOps). */
export interface ConfigfsOps {
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
}

interface Entry {
  generation: number;
  inblob?: Uint8Array;
  privlevel?: number;
  report?: { outblob: Uint8Array; auxblob: Uint8Array } | undefined;
}

export function createConfigfsStandIn(
  simulator: Simulator,
  at: Date,
  options: { provider?: string; racer?: boolean } = {},
) {
  const entries = new Map<string, Entry>();
  const log: string[] = [];
  const entryOf = (path: string) => {
    const entry = entries.get(dirname(path));
    if (entry === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return entry;
  };
  const ops: ConfigfsOps = {
    mkdir: (path) => {
      log.push(`mkdir ${basename(path)}`);
      entries.set(path, { generation: 0 });
      return Promise.resolve();
    },
    rmdir: (path) => {
      log.push(`rmdir ${basename(path)}`);
      entries.delete(path);
      return Promise.resolve();
    },
    writeFile: (path, data) => {
      const entry = entryOf(path);
      log.push(`write ${basename(path)}`);
      if (basename(path) === 'inblob') {
        entry.inblob = typeof data === 'string' ? new TextEncoder().encode(data) : data;
        entry.generation += options.racer === true ? 2 : 1;
        entry.report = undefined;
      } else if (basename(path) === 'privlevel') {
        entry.privlevel = Number(data);
      }
      return Promise.resolve();
    },
    readFile: async (path) => {
      const entry = entryOf(path);
      log.push(`read ${basename(path)}`);
      switch (basename(path)) {
        case 'provider':
          return new TextEncoder().encode(`${options.provider ?? 'sev_guest'}\n`);
        case 'generation':
          return new TextEncoder().encode(`${entry.generation}\n`);
        case 'outblob':
        case 'auxblob': {
          if (entry.inblob === undefined)
            throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
          if (entry.report === undefined) {
            const simulated = await simulator.snp({
              at,
              reportData: entry.inblob,
              vmpl: entry.privlevel ?? 0,
            });
            entry.report = { outblob: simulated.reportBytes, auxblob: simulated.certTable };
          }
          return basename(path) === 'outblob' ? entry.report.outblob : entry.report.auxblob;
        }
        default:
          throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      }
    },
  };
  return { ops, log, entries };
}
