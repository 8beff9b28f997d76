/**
 * Oblivious HTTP message encapsulation (RFC 9458, section 4): requests sealed
 * with HPKE to a gateway's key configuration, responses sealed with a key and
 * nonce derived from a secret the request's HPKE context exports. Veritee's
 * enclave is the Oblivious Gateway, the host the Oblivious Relay; what is
 * sealed is a Binary HTTP message (RFC 9292).
 *
 * Key configuration (section 3): key_id (1) | kem_id (2) | public key (Npk) |
 * cipher suites length (2) | { kdf_id (2) | aead_id (2) }...
 * Encapsulated request (4.3): key_id | kem_id | kdf_id | aead_id | enc | ct,
 * with HPKE info "message/bhttp request" | 0x00 | the 7-byte header.
 * Encapsulated response (4.4): response_nonce (max(Nn, Nk)) | ct, the AEAD key
 * and nonce expanded ("key", "nonce") from Extract(enc | response_nonce,
 * Export("message/bhttp response", max(Nn, Nk))).
 */
import { randomBytes } from 'node:crypto';
import { ChainError, EvidenceError } from '../errors.js';
import {
  aeadKeyLength,
  aeadOpen,
  aeadSeal,
  exportSecret,
  expand,
  extract,
  HPKE_KDF_SHA256,
  HPKE_KEM_X25519,
  HPKE_NN,
  isHpkeAead,
  open,
  seal,
  setupRecipient,
  setupSender,
  type HpkeAead,
  type HpkeKeyPair,
} from './hpke.js';

const REQUEST_LABEL = new TextEncoder().encode('message/bhttp request');
const RESPONSE_LABEL = new TextEncoder().encode('message/bhttp response');
const HEADER_SIZE = 7;
const X25519_SIZE = 32;
/** Largest encapsulated request accepted: a prompt of about 1 MiB. */
export const OHTTP_REQUEST_MAX_SIZE = 1024 * 1024 + 4096;

export interface SymmetricSuite {
  readonly kdf: typeof HPKE_KDF_SHA256;
  readonly aead: HpkeAead;
}

/** A gateway's key configuration (RFC 9458, section 3.1). */
export interface KeyConfig {
  readonly keyId: number;
  readonly kem: typeof HPKE_KEM_X25519;
  readonly publicKey: Uint8Array;
  readonly suites: readonly SymmetricSuite[];
}

function malformed(message: string): never {
  throw new EvidenceError('OHTTP_MALFORMED', message);
}

/** The key configuration's bytes (what evidence binds and clients read). */
export function encodeKeyConfig(config: KeyConfig): Uint8Array {
  const out = Buffer.alloc(1 + 2 + X25519_SIZE + 2 + 4 * config.suites.length);
  out.writeUInt8(config.keyId, 0);
  out.writeUInt16BE(config.kem, 1);
  out.set(config.publicKey, 3);
  out.writeUInt16BE(4 * config.suites.length, 3 + X25519_SIZE);
  config.suites.forEach((suite, i) => {
    out.writeUInt16BE(suite.kdf, 5 + X25519_SIZE + 4 * i);
    out.writeUInt16BE(suite.aead, 7 + X25519_SIZE + 4 * i);
  });
  return new Uint8Array(out);
}

/**
 * Reads one key configuration (DHKEM(X25519) only; suites this module cannot
 * speak are dropped, and a configuration left with none is refused).
 * @throws EvidenceError OHTTP_MALFORMED
 */
export function parseKeyConfig(bytes: Uint8Array): KeyConfig {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < 3 + X25519_SIZE + 2) malformed('a key configuration is cut short');
  if (view.readUInt16BE(1) !== HPKE_KEM_X25519)
    malformed('the KEM is not DHKEM(X25519, HKDF-SHA256)');
  const length = view.readUInt16BE(3 + X25519_SIZE);
  if (length === 0 || length % 4 !== 0 || view.byteLength !== 5 + X25519_SIZE + length)
    malformed('the cipher suites do not fill the configuration');
  const suites: SymmetricSuite[] = [];
  for (let at = 5 + X25519_SIZE; at < view.byteLength; at += 4) {
    const kdf = view.readUInt16BE(at);
    const aead = view.readUInt16BE(at + 2);
    if (kdf === HPKE_KDF_SHA256 && isHpkeAead(aead)) suites.push({ kdf, aead });
  }
  if (suites.length === 0) malformed('no cipher suite of the configuration is supported');
  return {
    keyId: view.readUInt8(0),
    kem: HPKE_KEM_X25519,
    publicKey: new Uint8Array(view.subarray(3, 3 + X25519_SIZE)),
    suites,
  };
}

/** `application/ohttp-keys`: each configuration after its uint16 length (RFC 9458, section 3.2). */
export function encodeKeyConfigs(configs: readonly KeyConfig[]): Uint8Array {
  return new Uint8Array(
    Buffer.concat(
      configs.map((config) => {
        const bytes = encodeKeyConfig(config);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(bytes.byteLength);
        return Buffer.concat([length, bytes]);
      }),
    ),
  );
}

function requestHeader(keyId: number, suite: SymmetricSuite): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt8(keyId, 0);
  header.writeUInt16BE(HPKE_KEM_X25519, 1);
  header.writeUInt16BE(suite.kdf, 3);
  header.writeUInt16BE(suite.aead, 5);
  return header;
}

const infoOf = (header: Uint8Array) => Buffer.concat([REQUEST_LABEL, Buffer.from([0]), header]);

/** max(Nn, Nk): the response nonce and exported secret length (section 4.4). */
const responseSecretLength = (aead: HpkeAead) => Math.max(HPKE_NN, aeadKeyLength(aead));

function responseKeys(aead: HpkeAead, secret: Uint8Array, enc: Uint8Array, nonce: Uint8Array) {
  const prk = extract(Buffer.concat([enc, nonce]), secret);
  return {
    key: expand(prk, new TextEncoder().encode('key'), aeadKeyLength(aead)),
    nonce: expand(prk, new TextEncoder().encode('nonce'), HPKE_NN),
  };
}

/**
 * The client's side: seals `request` (a Binary HTTP message) to the gateway
 * and returns the Encapsulated Request with a function that opens the
 * Encapsulated Response to exactly this request. `ephemeral` only for test vectors.
 */
export function encapsulateRequest(
  config: KeyConfig,
  request: Uint8Array,
  options: { readonly suite?: SymmetricSuite; readonly ephemeral?: HpkeKeyPair } = {},
): { encapsulated: Uint8Array; openResponse: (response: Uint8Array) => Uint8Array } {
  const suite = options.suite ?? config.suites[0] ?? malformed('the configuration has no suite');
  const header = requestHeader(config.keyId, suite);
  const { enc, context } = setupSender(config.publicKey, infoOf(header), {
    aead: suite.aead,
    ...(options.ephemeral === undefined ? {} : { ephemeral: options.ephemeral }),
  });
  const encapsulated = new Uint8Array(Buffer.concat([header, enc, seal(context, request)]));
  const length = responseSecretLength(suite.aead);
  return {
    encapsulated,
    openResponse(response) {
      if (response.byteLength < length + 16) malformed('the encapsulated response is cut short');
      const nonce = response.subarray(0, length);
      const secret = exportSecret(context, RESPONSE_LABEL, length);
      const keys = responseKeys(suite.aead, secret, enc, nonce);
      try {
        return aeadOpen(suite.aead, keys.key, keys.nonce, response.subarray(length));
      } catch {
        throw new ChainError('OHTTP_OPEN_FAILED', 'the response was not sealed for this request');
      }
    },
  };
}

/**
 * The gateway's side: opens an Encapsulated Request with its key pair and
 * returns the request with a function that seals the response to its client.
 * @throws EvidenceError OHTTP_MALFORMED, OHTTP_KEY_UNKNOWN
 * @throws ChainError OHTTP_OPEN_FAILED when the request was not sealed to this key or was altered
 */
export function decapsulateRequest(
  gateway: { readonly config: KeyConfig; readonly keyPair: HpkeKeyPair },
  encapsulated: Uint8Array,
): {
  request: Uint8Array;
  suite: SymmetricSuite;
  sealResponse: (response: Uint8Array, nonce?: Uint8Array) => Uint8Array;
} {
  if (encapsulated.byteLength > OHTTP_REQUEST_MAX_SIZE)
    malformed(`an encapsulated request is at most ${OHTTP_REQUEST_MAX_SIZE} bytes`);
  if (encapsulated.byteLength < HEADER_SIZE + X25519_SIZE + 16)
    malformed('the request is cut short');
  const view = Buffer.from(encapsulated.buffer, encapsulated.byteOffset, encapsulated.byteLength);
  if (view.readUInt8(0) !== gateway.config.keyId)
    throw new EvidenceError('OHTTP_KEY_UNKNOWN', 'the request names another key configuration');
  const suite = gateway.config.suites.find(
    (candidate) =>
      candidate.kdf === view.readUInt16BE(3) && candidate.aead === view.readUInt16BE(5),
  );
  if (view.readUInt16BE(1) !== HPKE_KEM_X25519 || suite === undefined)
    malformed('the request names a suite the configuration does not offer');
  const header = view.subarray(0, HEADER_SIZE);
  const enc = new Uint8Array(view.subarray(HEADER_SIZE, HEADER_SIZE + X25519_SIZE));
  let request: Uint8Array;
  let context: ReturnType<typeof setupRecipient>;
  try {
    context = setupRecipient(gateway.keyPair, enc, infoOf(header), suite.aead);
    request = open(context, view.subarray(HEADER_SIZE + X25519_SIZE));
  } catch {
    throw new ChainError(
      'OHTTP_OPEN_FAILED',
      'the request was not sealed to this gateway, or was altered',
    );
  }
  const length = responseSecretLength(suite.aead);
  return {
    request,
    suite,
    sealResponse(response, nonce = randomBytes(length)) {
      const secret = exportSecret(context, RESPONSE_LABEL, length);
      const keys = responseKeys(suite.aead, secret, enc, nonce);
      return new Uint8Array(
        Buffer.concat([nonce, aeadSeal(suite.aead, keys.key, keys.nonce, response)]),
      );
    },
  };
}
