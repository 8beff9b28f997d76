import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainError, EvidenceError } from '../../src/index.js';
import { createEnvelopedData, openEnvelopedData } from '../../src/seal/index.js';

const recipient = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = new Uint8Array(recipient.publicKey.export({ format: 'der', type: 'spki' }));
const dataKey = new Uint8Array(32).map((_, index) => index);

const isCode = (code: string) => (error: unknown) =>
  (error instanceof EvidenceError || error instanceof ChainError) && error.code === code;

describe('CMS EnvelopedData (KMS CiphertextForRecipient)', () => {
  it('opens what it envelopes, with the recipient key only', () => {
    const enveloped = createEnvelopedData(spki, dataKey);
    assert.deepEqual(openEnvelopedData(enveloped, recipient.privateKey), dataKey);
    assert.throws(() => openEnvelopedData(enveloped, other.privateKey), isCode('CMS_OPEN_FAILED'));
  });

  it('is a fresh envelope each time', () => {
    assert.notDeepEqual(createEnvelopedData(spki, dataKey), createEnvelopedData(spki, dataKey));
  });

  it('refuses a wrapped key that was altered', () => {
    const enveloped = createEnvelopedData(spki, dataKey);
    // The wrapped key is the 256-byte OCTET STRING: flip a byte inside it.
    const at = Buffer.from(enveloped).indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00])) + 10;
    assert.ok(at > 10);
    const altered = new Uint8Array(enveloped);
    altered[at] = (altered[at] ?? 0) ^ 0xff;
    assert.throws(
      () => openEnvelopedData(altered, recipient.privateKey),
      isCode('CMS_OPEN_FAILED'),
    );
  });

  it('refuses what is not the structure KMS sends', () => {
    const enveloped = createEnvelopedData(spki, dataKey);
    const cases = [
      enveloped.subarray(0, enveloped.length - 5),
      new Uint8Array([...enveloped, 0]),
      new Uint8Array([0x30, 0x00]),
      new Uint8Array(70_000),
    ];
    for (const bytes of cases)
      assert.throws(() => openEnvelopedData(bytes, recipient.privateKey), isCode('CMS_MALFORMED'));
    // Another content type than envelopedData (1.2.840.113549.1.7.3 -> .7.1).
    const wrongType = new Uint8Array(enveloped);
    const oid = Buffer.from(wrongType).indexOf(
      Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03]),
    );
    wrongType[oid + 8] = 0x01;
    assert.throws(
      () => openEnvelopedData(wrongType, recipient.privateKey),
      isCode('CMS_MALFORMED'),
    );
  });

  it('refuses to envelope for a key that is not RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(
      () =>
        createEnvelopedData(
          new Uint8Array(ec.publicKey.export({ format: 'der', type: 'spki' })),
          dataKey,
        ),
      isCode('CMS_MALFORMED'),
    );
  });
});

describe('CMS EnvelopedData against OpenSSL, an independent implementation', () => {
  const openssl = spawnSync('openssl', ['version']).status === 0;
  const skip = openssl ? false : 'openssl is not installed';

  it('OpenSSL opens what createEnvelopedData makes', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'veritee-cms-'));
    try {
      writeFileSync(
        join(dir, 'key.pem'),
        recipient.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      );
      writeFileSync(join(dir, 'env.der'), createEnvelopedData(spki, dataKey));
      const opened = spawnSync('openssl', [
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        join(dir, 'env.der'),
        '-inkey',
        join(dir, 'key.pem'),
      ]);
      assert.equal(opened.status, 0, opened.stderr.toString());
      assert.deepEqual(new Uint8Array(opened.stdout), dataKey);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'openEnvelopedData opens what OpenSSL makes (RSA-OAEP SHA-256, AES-256-CBC, key identifier)',
    { skip },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'veritee-cms-'));
      try {
        writeFileSync(
          join(dir, 'key.pem'),
          recipient.privateKey.export({ format: 'pem', type: 'pkcs8' }),
        );
        writeFileSync(join(dir, 'data.bin'), dataKey);
        const certificate = spawnSync('openssl', [
          'req',
          '-new',
          '-x509',
          '-key',
          join(dir, 'key.pem'),
          '-subj',
          '/CN=enclave',
          '-days',
          '1',
          '-out',
          join(dir, 'cert.pem'),
        ]);
        assert.equal(certificate.status, 0, certificate.stderr.toString());
        const made = spawnSync('openssl', [
          'cms',
          '-encrypt',
          '-binary',
          '-in',
          join(dir, 'data.bin'),
          '-outform',
          'DER',
          '-out',
          join(dir, 'env.der'),
          '-aes-256-cbc',
          '-keyid',
          '-recip',
          join(dir, 'cert.pem'),
          '-keyopt',
          'rsa_padding_mode:oaep',
          '-keyopt',
          'rsa_oaep_md:sha256',
          '-keyopt',
          'rsa_mgf1_md:sha256',
        ]);
        assert.equal(made.status, 0, made.stderr.toString());
        assert.deepEqual(
          openEnvelopedData(
            new Uint8Array(readFileSync(join(dir, 'env.der'))),
            recipient.privateKey,
          ),
          dataKey,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
