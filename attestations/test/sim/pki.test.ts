import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/index.js';
import { parseDevPki, serializeDevPki } from '../../src/sim/index.js';
import { devPki } from '@veritee/mock';

describe('dev PKI', () => {
  it('serializes and loads back to the same certificates', async () => {
    const loaded = await parseDevPki(await serializeDevPki(devPki));
    assert.deepEqual(loaded.snp.Turin.asvk.certificate.der, devPki.snp.Turin.asvk.certificate.der);
    assert.deepEqual(
      loaded.nitro.map((ca) => ca.certificate.fingerprint),
      devPki.nitro.map((ca) => ca.certificate.fingerprint),
    );
  });

  it('refuses a file that is not a dev PKI', async () => {
    for (const text of ['', '{}', '{"format":"veritee.dev-pki/v0"}', 'not json']) {
      await assert.rejects(
        parseDevPki(text),
        (error: unknown) => error instanceof ConfigError && error.code === 'DEV_PKI_INVALID',
      );
    }
  });
});
