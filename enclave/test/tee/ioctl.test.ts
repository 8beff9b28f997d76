import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import { loadTeeIoctl, nsmDeviceTransport } from '../../src/tee/ioctl.js';
import { createSevGuestTee } from '../../src/tee/sev-guest.js';
import { createNsmTee } from '../../src/tee/nitro-nsm.js';

// No SEV-SNP or Nitro device exists here: these tests prove the addon is built
// and loads, and that a failing ioctl becomes a typed error; the hardware
// request layouts themselves are checked only on hardware.
describe('TEE ioctl addon', () => {
  it('is built and exports the two device calls', () => {
    const addon = loadTeeIoctl();
    assert.equal(typeof addon.snpGetExtReport, 'function');
    assert.equal(typeof addon.nsmRequest, 'function');
  });

  it('reports a device that is not a SEV guest (ENOTTY) as TEE_QUOTE_FAILED', async () => {
    const tee = createSevGuestTee({ device: '/dev/null' });
    await assert.rejects(
      tee.quote({ reportData: new Uint8Array(64) }),
      (error: unknown) =>
        error instanceof UpstreamError &&
        error.code === 'TEE_QUOTE_FAILED' &&
        error.message.includes('E25'),
    );
    await assert.rejects(
      tee.quote({ reportData: new Uint8Array(32) }),
      (error: unknown) => error instanceof UpstreamError && error.code === 'TEE_QUOTE_FAILED',
    );
  });

  it('reports a device that is not an NSM as TEE_QUOTE_FAILED, and a missing one as TEE_UNAVAILABLE', async () => {
    await assert.rejects(
      createNsmTee(nsmDeviceTransport('/dev/null')).quote({ reportData: new Uint8Array(64) }),
      (error: unknown) => error instanceof UpstreamError && error.code === 'TEE_QUOTE_FAILED',
    );
    await assert.rejects(
      createNsmTee(nsmDeviceTransport('/nonexistent/nsm')).quote({
        reportData: new Uint8Array(64),
      }),
      (error: unknown) => error instanceof ConfigError && error.code === 'TEE_UNAVAILABLE',
    );
    await assert.rejects(
      createSevGuestTee({ device: '/nonexistent/sev-guest' }).quote({
        reportData: new Uint8Array(64),
      }),
      (error: unknown) => error instanceof ConfigError && error.code === 'TEE_UNAVAILABLE',
    );
  });
});
