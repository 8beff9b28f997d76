/**
 * A whole system for cross-component tests: real processes on ephemeral
 * ports, run from the TypeScript sources, in a temporary VERITEE_HOME seeded
 * with the committed test dev PKI (so no keys are generated).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_PKI_PATH } from '../sim-fixture.js';
import { sha256Hex, startService, type Service } from './processes.js';

/** The receipt token test hosts hold; test verifiers accept it. */
export const TEST_HOST_TOKEN = 'test-host-receipt-token-0123456789';

export const EPHEMERAL_PORTS = { host: 0, enclave: 0, verifier: 0 };

/** A fresh VERITEE_HOME holding the test dev PKI. */
export function createHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'veritee-system-'));
  copyFileSync(DEV_PKI_PATH, join(home, 'dev-pki.json'));
  return home;
}

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
      VERITEE_RECEIPT_TOKEN_HASHES: sha256Hex(TEST_HOST_TOKEN),
      ...env,
    },
  });
}
