/**
 * HPKE (RFC 9180) base mode for one suite: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM, on node:crypto's synchronous primitives.
 *
 * Why not @hpke/core, which we tried first: its WebCrypto calls cost about
 * 3 ms to open one request on this hardware against about 0.1 ms here, which
 * would dominate attested inference. @hpke/core stays as the interoperability
 * oracle in the tests (both directions), so this code cannot drift from it.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

const KEM_ID = 0x0020; // DHKEM(X25519, HKDF-SHA256), RFC 9180 section 7.1
const KDF_ID = 0x0001; // HKDF-SHA256, section 7.2
const AEAD_ID = 0x0002; // AES-256-GCM, section 7.3
const NK = 32;
const NN = 12;
const NH = 32;
const NSECRET = 32;
const MODE_BASE = 0x00;

const VERSION = Buffer.from('HPKE-v1');
const KEM_SUITE = Buffer.concat([Buffer.from('KEM'), i2osp(KEM_ID, 2)]);
const HPKE_SUITE = Buffer.concat([
  Buffer.from('HPKE'),
  i2osp(KEM_ID, 2),
  i2osp(KDF_ID, 2),
  i2osp(AEAD_ID, 2),
]);

function i2osp(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUIntBE(value, 0, length);
  return out;
}

function extract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt.byteLength === 0 ? Buffer.alloc(NH) : salt)
    .update(ikm)
    .digest();
}

function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let counter = 1; blocks.length * NH < length; counter++) {
    previous = createHmac('sha256', prk)
      .update(previous)
      .update(info)
      .update(Buffer.from([counter]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function labeledExtract(suite: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return extract(salt, Buffer.concat([VERSION, suite, Buffer.from(label), ikm]));
}

function labeledExpand(
  suite: Buffer,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
): Buffer {
  return expand(
    prk,
    Buffer.concat([i2osp(length, 2), VERSION, suite, Buffer.from(label), info]),
    length,
  );
}

/** An X25519 key pair; the private half is a KeyObject that never leaves memory. */
export interface HpkeKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

export function generateHpkeKeyPair(): HpkeKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url'));
}

function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

function sharedSecret(dh: Uint8Array, enc: Uint8Array, recipientPublicKey: Uint8Array): Buffer {
  const prk = labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh);
  return labeledExpand(
    KEM_SUITE,
    prk,
    'shared_secret',
    Buffer.concat([enc, recipientPublicKey]),
    NSECRET,
  );
}

/** An HPKE context after the key schedule (single-shot: sequence number 0). */
export interface HpkeContext {
  readonly key: Buffer;
  readonly baseNonce: Buffer;
  readonly exporterSecret: Buffer;
}

function keySchedule(secret: Uint8Array, info: Uint8Array): HpkeContext {
  const pskIdHash = labeledExtract(HPKE_SUITE, new Uint8Array(0), 'psk_id_hash', new Uint8Array(0));
  const infoHash = labeledExtract(HPKE_SUITE, new Uint8Array(0), 'info_hash', info);
  const context = Buffer.concat([Buffer.from([MODE_BASE]), pskIdHash, infoHash]);
  const extracted = labeledExtract(HPKE_SUITE, secret, 'secret', new Uint8Array(0));
  return {
    key: labeledExpand(HPKE_SUITE, extracted, 'key', context, NK),
    baseNonce: labeledExpand(HPKE_SUITE, extracted, 'base_nonce', context, NN),
    exporterSecret: labeledExpand(HPKE_SUITE, extracted, 'exp', context, NH),
  };
}

/** SetupBaseS: a fresh ephemeral key, its encapsulation `enc`, and the sender's context. */
export function setupSender(
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
): { enc: Uint8Array; context: HpkeContext } {
  const ephemeral = generateKeyPairSync('x25519');
  const enc = rawPublicKey(ephemeral.publicKey);
  const dh = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: publicKeyFromRaw(recipientPublicKey),
  });
  return { enc, context: keySchedule(sharedSecret(dh, enc, recipientPublicKey), info) };
}

/** SetupBaseR. Throws on an invalid encapsulation (callers map it to their own code). */
export function setupRecipient(
  keyPair: HpkeKeyPair,
  enc: Uint8Array,
  info: Uint8Array,
): HpkeContext {
  const dh = diffieHellman({ privateKey: keyPair.privateKey, publicKey: publicKeyFromRaw(enc) });
  // RFC 9180 section 7.1.4: an all-zero X25519 output means a low-order point.
  if (dh.every((byte) => byte === 0)) throw new Error('X25519 produced the all-zero shared secret');
  return keySchedule(sharedSecret(dh, enc, keyPair.publicKey), info);
}

/** Seal with sequence number 0 (one message per context). */
export function seal(
  context: HpkeContext,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', context.key, context.baseNonce).setAAD(aad);
  return new Uint8Array(
    Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]),
  );
}

/** Open with sequence number 0; throws when the ciphertext does not authenticate. */
export function open(
  context: HpkeContext,
  ciphertext: Uint8Array,
  aad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (ciphertext.byteLength < 16) throw new Error('ciphertext shorter than its tag');
  const decipher = createDecipheriv('aes-256-gcm', context.key, context.baseNonce).setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.byteLength - 16));
  return new Uint8Array(
    Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.byteLength - 16)),
      decipher.final(),
    ]),
  );
}

/** Export(exporter_context, L) (RFC 9180 section 5.3). */
export function exportSecret(
  context: HpkeContext,
  exporterContext: Uint8Array,
  length: number,
): Uint8Array {
  return new Uint8Array(
    labeledExpand(HPKE_SUITE, context.exporterSecret, 'sec', exporterContext, length),
  );
}
