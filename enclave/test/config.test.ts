import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@veritee/attestations';
import { parseConfig } from '../src/config.js';
import { BUNDLED_MODEL, GENERIC_MODELS } from '../src/model/bundled.js';

const sealed = {
  VERITEE_MODEL: '/models/model.sealed',
  VERITEE_MODEL_CONFIG: '/models/model.json',
  VERITEE_MODEL_SHA256: 'ab'.repeat(32),
};
const invalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof ConfigError && error.code === 'CONFIG_INVALID' && pattern.test(error.message);

describe('parseConfig: model key release', () => {
  it('defaults to none, a plaintext model', () => {
    assert.deepEqual(parseConfig({}).modelKeyRelease, { kind: 'none' });
  });

  it('reads kms with an optional endpoint and broker with its URL, reduced to origins', () => {
    assert.deepEqual(
      parseConfig({ ...sealed, VERITEE_TEE: 'nitro', VERITEE_MODEL_KEY_RELEASE: 'kms' })
        .modelKeyRelease,
      { kind: 'kms', endpoint: undefined },
    );
    assert.deepEqual(
      parseConfig({
        ...sealed,
        VERITEE_TEE: 'sim-nitro',
        VERITEE_MODEL_KEY_RELEASE: 'kms',
        VERITEE_KMS_ENDPOINT: 'http://127.0.0.1:4566/',
      }).modelKeyRelease,
      { kind: 'kms', endpoint: 'http://127.0.0.1:4566' },
    );
    assert.deepEqual(
      parseConfig({
        ...sealed,
        VERITEE_TEE: 'snp',
        VERITEE_MODEL_KEY_RELEASE: 'broker',
        VERITEE_KEY_BROKER_URL: 'https://verifier.example/',
      }).modelKeyRelease,
      { kind: 'broker', url: 'https://verifier.example' },
    );
  });

  it('refuses combinations that cannot release a key, naming the setting', () => {
    assert.throws(
      () => parseConfig({ ...sealed, VERITEE_MODEL_KEY_RELEASE: 'vault' }),
      invalid(/VERITEE_MODEL_KEY_RELEASE must be none, kms or broker/),
    );
    assert.throws(
      () => parseConfig({ VERITEE_TEE: 'nitro', VERITEE_MODEL_KEY_RELEASE: 'kms' }),
      invalid(/needs VERITEE_MODEL/),
    );
    assert.throws(
      () => parseConfig({ ...sealed, VERITEE_TEE: 'snp', VERITEE_MODEL_KEY_RELEASE: 'kms' }),
      invalid(/kms needs a Nitro enclave/),
    );
    assert.throws(
      () =>
        parseConfig({
          ...sealed,
          VERITEE_TEE: 'nitro',
          VERITEE_MODEL_KEY_RELEASE: 'kms',
          VERITEE_KMS_ENDPOINT: 'kms.internal:443',
        }),
      invalid(/VERITEE_KMS_ENDPOINT must be an http\(s\) URL/),
    );
    assert.throws(
      () =>
        parseConfig({
          ...sealed,
          VERITEE_MODEL_KEY_RELEASE: 'broker',
          VERITEE_KEY_BROKER_URL: 'ftp://verifier',
        }),
      invalid(/VERITEE_KEY_BROKER_URL must be an http\(s\) URL/),
    );
  });
});

describe('parseConfig: bundled models', () => {
  it('defaults to the classifier and picks another bundled model by name', () => {
    assert.equal(parseConfig({}).model.sha256, BUNDLED_MODEL.sha256);
    assert.deepEqual(parseConfig({ VERITEE_BUNDLED_MODEL: 'ocr' }).model, {
      path: GENERIC_MODELS.ocr.path,
      configPath: GENERIC_MODELS.ocr.configPath,
      sha256: GENERIC_MODELS.ocr.sha256,
    });
    // An operator's model wins over the bundled choice.
    assert.equal(
      parseConfig({ ...sealed, VERITEE_BUNDLED_MODEL: 'ocr' }).model.path,
      sealed.VERITEE_MODEL,
    );
  });

  it('refuses a name it does not bundle, inherited object keys included', () => {
    for (const name of ['gpt-4', 'toString', '__proto__'])
      assert.throws(
        () => parseConfig({ VERITEE_BUNDLED_MODEL: name }),
        invalid(/VERITEE_BUNDLED_MODEL must be one of guardrail, ocr, embedding, decoder/),
      );
  });
});
