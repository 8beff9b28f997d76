/**
 * HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256,
 * and AES-256-GCM (the default), AES-128-GCM or ChaCha20-Poly1305, on
 * node:crypto's synchronous primitives.
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
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

export const HPKE_KEM_X25519 = 0x0020; // DHKEM(X25519, HKDF-SHA256), RFC 9180 section 7.1
export const HPKE_KDF_SHA256 = 0x0001; // HKDF-SHA256, section 7.2
/** AEAD identifiers (RFC 9180 section 7.3). */
export const HPKE_AEAD = {
  AES_128_GCM: 0x0001,
  AES_256_GCM: 0x0002,
  CHACHA20_POLY1305: 0x0003,
} as const;
export type HpkeAead = (typeof HPKE_AEAD)[keyof typeof HPKE_AEAD];

const AEADS: Record<
  HpkeAead,
  { readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'; readonly nk: number }
> = {
  [HPKE_AEAD.AES_128_GCM]: { cipher: 'aes-128-gcm', nk: 16 },
  [HPKE_AEAD.AES_256_GCM]: { cipher: 'aes-256-gcm', nk: 32 },
  [HPKE_AEAD.CHACHA20_POLY1305]: { cipher: 'chacha20-poly1305', nk: 32 },
};
/** Nonce and tag sizes, the same for all three AEADs. */
export const HPKE_NN = 12;
const TAG = 16;
const NH = 32;
const NSECRET = 32;
const MODE_BASE = 0x00;

const VERSION = Buffer.from('HPKE-v1');
const KEM_SUITE = Buffer.concat([Buffer.from('KEM'), i2osp(HPKE_KEM_X25519, 2)]);
const hpkeSuite = (aead: HpkeAead) =>
  Buffer.concat([
    Buffer.from('HPKE'),
    i2osp(HPKE_KEM_X25519, 2),
    i2osp(HPKE_KDF_SHA256, 2),
    i2osp(aead, 2),
  ]);

/** Whether `id` is an AEAD this module speaks. */
export function isHpkeAead(id: number): id is HpkeAead {
  return id in AEADS;
}

/** Nk of an AEAD (its key length). */
export function aeadKeyLength(aead: HpkeAead): number {
  return AEADS[aead].nk;
}

function i2osp(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUIntBE(value, 0, length);
  return out;
}

/** HKDF-Extract with SHA-256 (RFC 5869). */
export function extract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt.byteLength === 0 ? Buffer.alloc(NH) : salt)
    .update(ikm)
    .digest();
}

/** HKDF-Expand with SHA-256 (RFC 5869). */
export function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
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

// Node encodes the half it is asked to and returns the other as a KeyObject;
// @types/node only declares both halves encoded.
const generateX25519 = generateKeyPairSync as unknown as (
  type: 'x25519',
  options: { publicKeyEncoding: { format: 'jwk' } },
) => { publicKey: JsonWebKey; privateKey: KeyObject };

export function generateHpkeKeyPair(): HpkeKeyPair {
  // The public key is encoded while the key generation job is alive. Exporting
  // it afterwards deadlocks on Node 20 when garbage collection during the
  // export finalizes that job (its destructor takes the lock the export holds).
  const { publicKey, privateKey } = generateX25519('x25519', {
    publicKeyEncoding: { format: 'jwk' },
  });
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

/** The raw key of an OKP public JWK (X25519: the 32 bytes HPKE sends). */
function rawPublicKey(jwk: JsonWebKey): Uint8Array {
  return new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'));
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
  readonly aead: HpkeAead;
  readonly key: Buffer;
  readonly baseNonce: Buffer;
  readonly exporterSecret: Buffer;
}

function keySchedule(secret: Uint8Array, info: Uint8Array, aead: HpkeAead): HpkeContext {
  const suite = hpkeSuite(aead);
  const pskIdHash = labeledExtract(suite, new Uint8Array(0), 'psk_id_hash', new Uint8Array(0));
  const infoHash = labeledExtract(suite, new Uint8Array(0), 'info_hash', info);
  const context = Buffer.concat([Buffer.from([MODE_BASE]), pskIdHash, infoHash]);
  const extracted = labeledExtract(suite, secret, 'secret', new Uint8Array(0));
  return {
    aead,
    key: labeledExpand(suite, extracted, 'key', context, AEADS[aead].nk),
    baseNonce: labeledExpand(suite, extracted, 'base_nonce', context, HPKE_NN),
    exporterSecret: labeledExpand(suite, extracted, 'exp', context, NH),
  };
}

// PKCS #8 wrapping of a raw X25519 private key (RFC 8410, section 7).
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** An X25519 key pair from its raw 32-byte private key (for keys held elsewhere, and test vectors). */
export function hpkeKeyPairFromPrivate(raw: Uint8Array): HpkeKeyPair {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  return {
    publicKey: rawPublicKey(createPublicKey(privateKey).export({ format: 'jwk' })),
    privateKey,
  };
}

/**
 * SetupBaseS: an ephemeral key (fresh, unless a test vector gives one), its
 * encapsulation `enc`, and the sender's context.
 */
export function setupSender(
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  options: { readonly aead?: HpkeAead; readonly ephemeral?: HpkeKeyPair } = {},
): { enc: Uint8Array; context: HpkeContext } {
  const ephemeral = options.ephemeral ?? generateHpkeKeyPair();
  const enc = ephemeral.publicKey;
  const dh = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: publicKeyFromRaw(recipientPublicKey),
  });
  return {
    enc,
    context: keySchedule(
      sharedSecret(dh, enc, recipientPublicKey),
      info,
      options.aead ?? HPKE_AEAD.AES_256_GCM,
    ),
  };
}

/** SetupBaseR. Throws on an invalid encapsulation (callers map it to their own code). */
export function setupRecipient(
  keyPair: HpkeKeyPair,
  enc: Uint8Array,
  info: Uint8Array,
  aead: HpkeAead = HPKE_AEAD.AES_256_GCM,
): HpkeContext {
  const dh = diffieHellman({ privateKey: keyPair.privateKey, publicKey: publicKeyFromRaw(enc) });
  // RFC 9180 section 7.1.4: an all-zero X25519 output means a low-order point.
  if (dh.every((byte) => byte === 0)) throw new Error('X25519 produced the all-zero shared secret');
  return keySchedule(sharedSecret(dh, enc, keyPair.publicKey), info, aead);
}

// node:crypto's typings overload each AEAD family; all three take the same options at run time.
const aeadCipher = (aead: HpkeAead) => AEADS[aead].cipher as 'aes-256-gcm';

/** AEAD Seal with a key and nonce (the context's, or derived elsewhere, as OHTTP's response). */
export function aeadSeal(
  aead: HpkeAead,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const cipher = createCipheriv(aeadCipher(aead), key, nonce, { authTagLength: TAG }).setAAD(aad, {
    plaintextLength: plaintext.byteLength,
  });
  return new Uint8Array(
    Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]),
  );
}

/** AEAD Open; throws when the ciphertext does not authenticate. */
export function aeadOpen(
  aead: HpkeAead,
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (ciphertext.byteLength < TAG) throw new Error('ciphertext shorter than its tag');
  const decipher = createDecipheriv(aeadCipher(aead), key, nonce, { authTagLength: TAG });
  decipher.setAAD(aad, { plaintextLength: ciphertext.byteLength - TAG });
  decipher.setAuthTag(ciphertext.subarray(ciphertext.byteLength - TAG));
  return new Uint8Array(
    Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.byteLength - TAG)),
      decipher.final(),
    ]),
  );
}

/** Seal with sequence number 0 (one message per context). */
export function seal(
  context: HpkeContext,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return aeadSeal(context.aead, context.key, context.baseNonce, plaintext, aad);
}

/** Open with sequence number 0; throws when the ciphertext does not authenticate. */
export function open(
  context: HpkeContext,
  ciphertext: Uint8Array,
  aad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return aeadOpen(context.aead, context.key, context.baseNonce, ciphertext, aad);
}

/** Export(exporter_context, L) (RFC 9180 section 5.3). */
export function exportSecret(
  context: HpkeContext,
  exporterContext: Uint8Array,
  length: number,
): Uint8Array {
  return new Uint8Array(
    labeledExpand(hpkeSuite(context.aead), context.exporterSecret, 'sec', exporterContext, length),
  );
}
