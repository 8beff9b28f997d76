/**
 * Raw X25519 and Ed25519 public keys, against the JWK export node:crypto
 * gives (the oracle, used here only a few times), and the deadlock that
 * reading them through a JWK export ran into under garbage collection.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { rawOkpPublicKey } from '../src/okp-key.js';

describe('raw OKP public keys', () => {
  it('are the JWK x of X25519 and Ed25519 keys, from either half, and nothing else', () => {
    for (const type of ['x25519', 'ed25519'] as const)
      for (let round = 0; round < 20; round++) {
        const { publicKey, privateKey } = generateKeyPairSync(type as 'x25519');
        const x = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
        assert.deepEqual(Buffer.from(rawOkpPublicKey(publicKey)), x);
        assert.deepEqual(Buffer.from(rawOkpPublicKey(privateKey)), x);
      }
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => rawOkpPublicKey(publicKey), TypeError);
    assert.throws(() => rawOkpPublicKey(createSecretKey(randomBytes(32))), TypeError);
  });

  it('are read for 200,000 key pairs made one after another under allocation, without a hang', async () => {
    // Through a JWK export this hung within 6,000 to 20,000 key pairs on Node 20 (three runs).
    const script = `
      import { generateHpkeKeyPair } from '${new URL('../src/seal/hpke.ts', import.meta.url).href}';
      const junk = [];
      for (let i = 0; i < 200000; i++) {
        if (generateHpkeKeyPair().publicKey.byteLength !== 32) throw new Error('not 32 bytes');
        junk.push('x'.repeat(100) + i);
        if (junk.length > 1000) junk.length = 0;
      }
      process.stdout.write('done');`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=veritee-source', '--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 60_000 },
    );
    assert.equal(stdout, 'done');
  });
});
