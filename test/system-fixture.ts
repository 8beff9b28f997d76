/**
 * A whole system for cross-component tests: real processes on ephemeral
 * ports, run from the TypeScript sources, in a temporary VERITEE_HOME seeded
 * with the committed test dev PKI (so no keys are generated).
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTrustStore, mergeTrustStores, type TrustStore } from '@veritee/attestations';
import { devTrustStore, parseDevPki } from '@veritee/attestations/sim';
import { ROOT } from '../scripts/system.js';

export const DEV_PKI_FIXTURE = join(ROOT, 'attestations/test/fixtures/dev-pki.json');
export const EPHEMERAL_PORTS = { host: 0, enclave: 0, verifier: 0 };

/** A fresh VERITEE_HOME holding the test dev PKI. */
export function createHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'veritee-system-'));
  copyFileSync(DEV_PKI_FIXTURE, join(home, 'dev-pki.json'));
  return home;
}

/** The real roots plus the test dev roots, as a client that allows simulation holds them. */
export const trustWithDev: TrustStore = mergeTrustStores(
  defaultTrustStore(),
  devTrustStore(await parseDevPki(readFileSync(DEV_PKI_FIXTURE, 'utf8'))),
);
