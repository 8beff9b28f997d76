/** Simulated evidence produced per second (one ECDSA P-384 signature each, endorsements cached). */
import { readFileSync } from 'node:fs';
import { createSimulator, parseDevPki } from '@veritee/attestations/sim';
import { DEV_PKI_PATH } from '@veritee/mock';
import { printRow, ratePerSecond } from './measure.js';

export async function benchSimulator(): Promise<void> {
  const simulator = createSimulator(await parseDevPki(readFileSync(DEV_PKI_PATH, 'utf8')));
  const at = new Date('2026-06-01T12:00:00Z');
  const reportData = new Uint8Array(64);
  await simulator.snp({ at, reportData });
  await simulator.nitro({ at });
  const snp = await ratePerSecond(() => simulator.snp({ at, reportData }));
  const nitro = await ratePerSecond(() => simulator.nitro({ at, nonce: reportData }));
  printRow('simulated SNP reports (v5, with certificate table)', `${snp.toFixed(0)} /s`);
  printRow('simulated Nitro documents', `${nitro.toFixed(0)} /s`);
}
