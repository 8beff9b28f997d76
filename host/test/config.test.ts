import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@veritee/attestations';
import { HOST_SETTINGS, parseConfig } from '../src/config.js';
import { loadSettings } from '@veritee/attestations/config';

/** The environment plus a config file, as main.ts merges them. */
const settings = (env: Record<string, string>, file: unknown) =>
  file === undefined
    ? env
    : loadSettings({ ...env, VERITEE_CONFIG: 'host.json' }, HOST_SETTINGS, () =>
        JSON.stringify(file),
      );

const rejects = (env: Record<string, string>, file: unknown, name: string) =>
  assert.throws(
    () => parseConfig(settings(env, file)),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.code === 'CONFIG_INVALID' &&
      error.message.includes(name),
  );

describe('parseConfig', () => {
  it('defaults to the local system on 127.0.0.1', () => {
    const config = parseConfig({});
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 7000);
    assert.equal(config.enclave.url, 'http://127.0.0.1:7001');
    assert.equal(config.verifierUrl, 'http://127.0.0.1:7003');
  });

  it('takes settings from the config file, with the environment winning', () => {
    const config = parseConfig(
      settings(
        { VERITEE_HOST_MAX_QUEUE: '9' },
        { VERITEE_HOST_MAX_QUEUE: 3, VERITEE_HOST_MAX_IN_FLIGHT: 2, VERITEE_VERIFIER_URL: 'none' },
      ),
    );
    assert.equal(config.maxQueue, 9);
    assert.equal(config.maxInFlight, 2);
    assert.equal(config.verifierUrl, undefined);
  });

  it('reaches the enclave over a Unix socket', () => {
    assert.equal(
      parseConfig({ VERITEE_ENCLAVE_URL: 'unix:/run/enclave.sock' }).enclave.socketPath,
      '/run/enclave.sock',
    );
  });

  it('names each bad setting', () => {
    rejects({ VERITEE_HOST_LISTEN: 'nowhere' }, undefined, 'VERITEE_HOST_LISTEN');
    rejects({ VERITEE_ENCLAVE_URL: 'ftp://x' }, undefined, 'VERITEE_ENCLAVE_URL');
    rejects({ VERITEE_VERIFIER_URL: 'not a url' }, undefined, 'VERITEE_VERIFIER_URL');
    rejects({ VERITEE_HOST_TIMEOUT_MS: '5' }, undefined, 'VERITEE_HOST_TIMEOUT_MS');
    rejects({}, { VERITEE_HOST_MAX_QUEUE: -1 }, 'VERITEE_HOST_MAX_QUEUE');
    rejects({}, { VERITEE_HOTS_LISTEN: '127.0.0.1:1' }, 'VERITEE_HOTS_LISTEN');
    rejects({}, ['not', 'an', 'object'], 'VERITEE_CONFIG');
    assert.throws(
      () =>
        loadSettings({ VERITEE_CONFIG: '/nonexistent.json' }, HOST_SETTINGS, () => {
          throw new Error('ENOENT');
        }),
      (error: unknown) => error instanceof ConfigError && error.message.includes('VERITEE_CONFIG'),
    );
  });
});
