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
import { ROOT, startService, type Service } from '../scripts/system.js';

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

/**
 * A verifier process from the sources on a free port, its data in
 * `<home>/verifier`, trusting the home's dev PKI; `env` adds or overrides.
 */
export function startTestVerifier(
  home: string,
  env: Record<string, string> = {},
): Promise<Service> {
  return startService('verifier', {
    home,
    mode: 'source',
    env: {
      VERITEE_VERIFIER_LISTEN: '127.0.0.1:0',
      VERITEE_VERIFIER_DATA: join(home, 'verifier'),
      VERITEE_ALLOW_SIMULATED: '1',
      ...env,
    },
  });
}
