import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSimulator, parseDevPki } from '@veritee/attestations/sim';
import { defaultTrustStore, mergeTrustStores } from '@veritee/attestations/evidence';
import { type Binding } from '@veritee/attestations/wire';

/** The committed test-only dev PKI (see fixtures/README.md). */
export const DEV_PKI_PATH = fileURLToPath(new URL('../fixtures/dev-pki.json', import.meta.url));
export const devPki = await parseDevPki(readFileSync(DEV_PKI_PATH, 'utf8'));
export const simulator = createSimulator(devPki);
/** Real roots and the dev roots together, as a verifier told to allow simulated evidence holds them. */
export const trustWithDev = mergeTrustStores(defaultTrustStore(), simulator.trust);
/** A pinned clock inside the fixture PKI's validity. */
export const AT = new Date('2026-06-01T12:00:00Z');

/** A binding of random values: what an enclave would bind, for tests that need any. */
export function randomBinding(): Binding {
  return {
    modelHash: new Uint8Array(randomBytes(32)),
    inputCommitment: new Uint8Array(randomBytes(32)),
    outputHash: new Uint8Array(randomBytes(32)),
    nonce: new Uint8Array(randomBytes(32)),
    enclaveKey: new Uint8Array(randomBytes(32)),
  };
}
