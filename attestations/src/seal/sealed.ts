/**
 * Sealed requests and responses (`veritee.sealed-request/v1`): a prompt is
 * sealed with HPKE (RFC 9180, base mode, DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM) to the enclave's attested public key; the response
 * is sealed with a key exported from the same HPKE context, as Oblivious HTTP
 * (RFC 9458, section 4.4) does, so only that client can open it. The host that
 * relays both sees ciphertext only.
 *
 * Request wire format: CBOR map { "enc": bstr(32), "ct": bstr }; its plaintext a
 * CBOR map { "prompt": tstr, "salt": bstr(32), "nonce": bstr(16..64) }.
 * Response wire format: CBOR map { "nonce": bstr(12), "ct": bstr }, AES-256-GCM
 * under Export("veritee.sealed-response/v1", 32) with the request's enc as AAD;
 * its plaintext a CBOR map { "output": bstr }.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  exportSecret,
  generateHpkeKeyPair,
  open,
  seal,
  setupRecipient,
  setupSender,
  type HpkeKeyPair,
} from './hpke.js';
import { decodeCbor, encodeCbor } from '../cbor.js';
import { ChainError, EvidenceError } from '../errors.js';

export const SEALED_REQUEST_FORMAT = 'veritee.sealed-request/v1';
const INFO = new TextEncoder().encode(SEALED_REQUEST_FORMAT);
const RESPONSE_LABEL = new TextEncoder().encode('veritee.sealed-response/v1');
/** Largest sealed request accepted: prompts up to about 1 MiB. */
export const SEALED_REQUEST_MAX_SIZE = 1024 * 1024 + 1024;
const X25519_KEY_SIZE = 32;

export interface InferenceRequest {
  readonly prompt: string;
  /** 32 random bytes: the input commitment's salt. */
  readonly salt: Uint8Array;
  /** The request nonce the quote binds (16 to 64 bytes). */
  readonly nonce: Uint8Array;
}

/** The enclave's key pair (raw 32-byte X25519 public key: what quotes bind and clients seal to); the private half never leaves the process. */
export type EnclaveKeyPair = HpkeKeyPair;

/** A fresh enclave key pair. */
export function generateEnclaveKeyPair(): EnclaveKeyPair {
  return generateHpkeKeyPair();
}

/**
 * Seals a request to the enclave's public key; the returned `openResponse`
 * opens the enclave's answer to exactly this request.
 * @throws EvidenceError SEAL_MALFORMED for an enclave key that is not 32 bytes, or a bad request
 */
export function sealRequest(
  enclavePublicKey: Uint8Array,
  request: InferenceRequest,
): { sealed: Uint8Array; openResponse: (sealed: Uint8Array) => Uint8Array } {
  if (enclavePublicKey.byteLength !== X25519_KEY_SIZE)
    throw new EvidenceError(
      'SEAL_MALFORMED',
      `enclave key is ${enclavePublicKey.byteLength} bytes; expected 32`,
    );
  checkRequest(request);
  let sender: ReturnType<typeof setupSender>;
  try {
    sender = setupSender(enclavePublicKey, INFO);
  } catch (error) {
    throw new EvidenceError('SEAL_MALFORMED', 'enclave key is not an X25519 public key', {
      cause: error,
    });
  }
  const plaintext = encodeCbor(
    new Map<string, unknown>([
      ['prompt', request.prompt],
      ['salt', request.salt],
      ['nonce', request.nonce],
    ]),
  );
  const ct = seal(sender.context, plaintext);
  const { enc } = sender;
  const responseKey = exportSecret(sender.context, RESPONSE_LABEL, 32);
  return {
    sealed: encodeCbor(
      new Map<string, unknown>([
        ['enc', enc],
        ['ct', ct],
      ]),
    ),
    openResponse: (sealed) => openResponse(responseKey, enc, sealed),
  };
}

/**
 * Opens a sealed request with the enclave's key pair; `sealResponse` seals the
 * answer back to the requester.
 * @throws EvidenceError SEAL_MALFORMED
 * @throws ChainError SEAL_OPEN_FAILED when the request was not sealed to this key or was altered
 */
export function openRequest(
  keyPair: EnclaveKeyPair,
  sealed: Uint8Array,
): { request: InferenceRequest; sealResponse: (output: Uint8Array) => Uint8Array } {
  if (sealed.byteLength > SEALED_REQUEST_MAX_SIZE)
    throw new EvidenceError(
      'SEAL_MALFORMED',
      `sealed request is ${sealed.byteLength} bytes; at most ${SEALED_REQUEST_MAX_SIZE}`,
    );
  const envelope = fields(decodeCbor(sealed, { maxDepth: 2, code: 'SEAL_MALFORMED' }), [
    'enc',
    'ct',
  ]);
  const enc = bytes(envelope.get('enc'), 'enc');
  const ct = bytes(envelope.get('ct'), 'ct');
  if (enc.byteLength !== X25519_KEY_SIZE)
    throw new EvidenceError('SEAL_MALFORMED', 'enc is not 32 bytes');
  let plaintext: Uint8Array;
  let responseKey: Uint8Array;
  try {
    const context = setupRecipient(keyPair, enc, INFO);
    plaintext = open(context, ct);
    responseKey = exportSecret(context, RESPONSE_LABEL, 32);
  } catch (error) {
    throw new ChainError(
      'SEAL_OPEN_FAILED',
      'the request was not sealed to this enclave key or was altered',
      { cause: error },
    );
  }
  const body = fields(decodeCbor(plaintext, { maxDepth: 2, code: 'SEAL_MALFORMED' }), [
    'prompt',
    'salt',
    'nonce',
  ]);
  const prompt = body.get('prompt');
  if (typeof prompt !== 'string') throw new EvidenceError('SEAL_MALFORMED', 'prompt is not text');
  const request = {
    prompt,
    salt: bytes(body.get('salt'), 'salt'),
    nonce: bytes(body.get('nonce'), 'nonce'),
  };
  checkRequest(request);
  return {
    request,
    sealResponse: (output) => {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', responseKey, nonce).setAAD(enc);
      const ciphertext = Buffer.concat([
        cipher.update(encodeCbor(new Map([['output', output]]))),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return encodeCbor(
        new Map<string, unknown>([
          ['nonce', new Uint8Array(nonce)],
          ['ct', new Uint8Array(ciphertext)],
        ]),
      );
    },
  };
}

function openResponse(key: Uint8Array, enc: Uint8Array, sealed: Uint8Array): Uint8Array {
  const envelope = fields(decodeCbor(sealed, { maxDepth: 2, code: 'SEAL_MALFORMED' }), [
    'nonce',
    'ct',
  ]);
  const nonce = bytes(envelope.get('nonce'), 'nonce');
  const ct = bytes(envelope.get('ct'), 'ct');
  if (nonce.byteLength !== 12 || ct.byteLength < 16)
    throw new EvidenceError('SEAL_MALFORMED', 'sealed response is too short');
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(enc);
    decipher.setAuthTag(ct.subarray(ct.byteLength - 16));
    plaintext = Buffer.concat([
      decipher.update(ct.subarray(0, ct.byteLength - 16)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new ChainError(
      'SEAL_OPEN_FAILED',
      'the response was not sealed for this request or was altered',
      { cause: error },
    );
  }
  const body = fields(
    decodeCbor(new Uint8Array(plaintext), { maxDepth: 2, code: 'SEAL_MALFORMED' }),
    ['output'],
  );
  return new Uint8Array(bytes(body.get('output'), 'output'));
}

function checkRequest(request: InferenceRequest): void {
  if (request.salt.byteLength !== 32)
    throw new EvidenceError('SEAL_MALFORMED', 'salt is not 32 bytes');
  if (request.nonce.byteLength < 16 || request.nonce.byteLength > 64)
    throw new EvidenceError('SEAL_MALFORMED', 'nonce is not 16 to 64 bytes');
}

function fields(value: unknown, names: readonly string[]): Map<string, unknown> {
  if (
    !(value instanceof Map) ||
    value.size !== names.length ||
    names.some((name) => !value.has(name))
  ) {
    throw new EvidenceError('SEAL_MALFORMED', `expected a map of exactly ${names.join(', ')}`);
  }
  return value as Map<string, unknown>;
}

function bytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new EvidenceError('SEAL_MALFORMED', `${name} is not a byte string`);
  return value;
}
