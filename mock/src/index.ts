/**
 * `@veritee/mock`: stand-ins for tests and benchmarks, as sigstore's mock
 * package and go-sev-guest's testing/ are. Nothing in a service imports it.
 * The root entry is the simulator on the committed dev PKI; the heavier
 * stand-ins have their own entries (`/kms`, `/tee`, `/host`, `/vectors`,
 * `/ovmf`, `/postgres`, `/cli`).
 */
export { DEV_PKI_PATH, devPki, simulator, trustWithDev, AT, randomBinding } from './sim-fixture.js';
export { receiptRequestBody } from './receipt-request.js';
