/**
 * Our RFC 9180 implementation against @hpke/core, a reference implementation,
 * in both directions: same suite, same info, same exported secrets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import {
  exportSecret,
  generateHpkeKeyPair,
  HPKE_AEAD,
  open,
  seal,
  setupRecipient,
  setupSender,
  type HpkeAead,
} from '../../src/seal/hpke.js';

const suiteOf = (aead: Aes128Gcm | Aes256Gcm | Chacha20Poly1305) =>
  new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead });
const reference = suiteOf(new Aes256Gcm());
const info = new TextEncoder().encode('veritee hpke interop');
const exporterContext = new TextEncoder().encode('exported');

describe('HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and each AEAD', () => {
  it('opens what the reference implementation seals, and exports the same secret', async () => {
    for (let round = 0; round < 20; round++) {
      const ours = generateHpkeKeyPair();
      const plaintext = new Uint8Array(randomBytes(round * 7));
      const aad = new Uint8Array(randomBytes(round % 3));
      const sender = await reference.createSenderContext({
        recipientPublicKey: await reference.kem.deserializePublicKey(ours.publicKey),
        info,
      });
      const ciphertext = new Uint8Array(await sender.seal(plaintext, aad));
      const context = setupRecipient(ours, new Uint8Array(sender.enc), info);
      assert.deepEqual(open(context, ciphertext, aad), plaintext);
      assert.deepEqual(
        exportSecret(context, exporterContext, 32),
        new Uint8Array(await sender.export(exporterContext, 32)),
      );
    }
  });

  it('seals what the reference implementation opens, and exports the same secret', async () => {
    for (let round = 0; round < 20; round++) {
      const keys = await reference.kem.generateKeyPair();
      const publicKey = new Uint8Array(await reference.kem.serializePublicKey(keys.publicKey));
      const plaintext = new Uint8Array(randomBytes(round * 11));
      const { enc, context } = setupSender(publicKey, info);
      const ciphertext = seal(context, plaintext);
      const recipient = await reference.createRecipientContext({ recipientKey: keys, enc, info });
      assert.deepEqual(new Uint8Array(await recipient.open(ciphertext)), plaintext);
      assert.deepEqual(
        new Uint8Array(await recipient.export(exporterContext, 48)),
        exportSecret(context, exporterContext, 48),
      );
    }
  });

  const others: Array<[string, HpkeAead, ReturnType<typeof suiteOf>]> = [
    ['AES-128-GCM', HPKE_AEAD.AES_128_GCM, suiteOf(new Aes128Gcm())],
    ['ChaCha20-Poly1305', HPKE_AEAD.CHACHA20_POLY1305, suiteOf(new Chacha20Poly1305())],
  ];
  for (const [name, aead, suite] of others)
    it(`speaks ${name} with the reference implementation, both ways`, async () => {
      const ours = generateHpkeKeyPair();
      const plaintext = new Uint8Array(randomBytes(100));
      const sender = await suite.createSenderContext({
        recipientPublicKey: await suite.kem.deserializePublicKey(ours.publicKey),
        info,
      });
      const context = setupRecipient(ours, new Uint8Array(sender.enc), info, aead);
      assert.deepEqual(open(context, new Uint8Array(await sender.seal(plaintext))), plaintext);
      const keys = await suite.kem.generateKeyPair();
      const publicKey = new Uint8Array(await suite.kem.serializePublicKey(keys.publicKey));
      const sealed = setupSender(publicKey, info, { aead });
      const recipient = await suite.createRecipientContext({
        recipientKey: keys,
        enc: sealed.enc,
        info,
      });
      assert.deepEqual(
        new Uint8Array(await recipient.open(seal(sealed.context, plaintext))),
        plaintext,
      );
      assert.deepEqual(
        new Uint8Array(await recipient.export(exporterContext, 16)),
        exportSecret(sealed.context, exporterContext, 16),
      );
    });

  it('fails to open under another info, another key, or a changed byte', () => {
    const ours = generateHpkeKeyPair();
    const { enc, context } = setupSender(ours.publicKey, info);
    const ciphertext = seal(context, new Uint8Array([1, 2, 3]));
    assert.throws(() =>
      open(setupRecipient(ours, enc, new TextEncoder().encode('other')), ciphertext),
    );
    assert.throws(() => open(setupRecipient(generateHpkeKeyPair(), enc, info), ciphertext));
    const changed = Uint8Array.from(ciphertext);
    changed[0] = (changed[0] ?? 0) ^ 1;
    assert.throws(() => open(setupRecipient(ours, enc, info), changed));
    assert.throws(
      () => setupRecipient(ours, new Uint8Array(32), info),
      'a low-order (all-zero) point is refused',
    );
  });

  it("generates key pairs whose public half is the private half's, 200,000 in a row without a hang", async () => {
    const ours = generateHpkeKeyPair();
    const x = createPublicKey(ours.privateKey).export({ format: 'jwk' }).x ?? '';
    assert.deepEqual(Buffer.from(ours.publicKey), Buffer.from(x, 'base64url'));
    // Exporting each public key after its generation hung 2 of 2 runs of this
    // loop (Node 20: see generateHpkeKeyPair); the strings make garbage collection run.
    const script = `
      import { generateHpkeKeyPair } from '${new URL('../../src/seal/hpke.ts', import.meta.url).href}';
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
