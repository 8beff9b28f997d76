/**
 * Model weights at rest (`veritee.sealed-model/v1`), envelope-encrypted: the
 * weights under AES-256-GCM with a data key, and the data key itself as a KMS
 * ciphertext that only an attested enclave can have released to it.
 *
 * Bytes: "VSM1" | u32 (big-endian) header length | header (UTF-8 JSON) |
 * ciphertext | 16-byte GCM tag. The header is the AAD, so it cannot be swapped:
 * { format, keyId, encryptedKey (base64 KMS CiphertextBlob), iv (hex, 12 bytes),
 *   sha256 (hex, of the plaintext weights) }.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ChainError, EvidenceError } from '../errors.js';

export const SEALED_MODEL_FORMAT = 'veritee.sealed-model/v1';
const MAGIC = new TextEncoder().encode('VSM1');
const MAX_HEADER = 16 * 1024;

export interface SealedModelHeader {
  readonly format: typeof SEALED_MODEL_FORMAT;
  /** The KMS key that wrapped the data key (id or ARN); informational. */
  readonly keyId: string;
  /** The data key as KMS encrypted it (CiphertextBlob). */
  readonly encryptedKey: Uint8Array;
  readonly iv: Uint8Array;
  /** SHA-256 of the plaintext weights. */
  readonly sha256: string;
}

export interface SealedModel {
  readonly header: SealedModelHeader;
  readonly headerBytes: Uint8Array;
  readonly ciphertext: Uint8Array;
}

function bad(message: string): never {
  throw new EvidenceError('SEALED_MODEL_MALFORMED', message);
}

/** Seals weights under a 32-byte data key whose KMS ciphertext goes in the header. */
export function sealModel(input: {
  model: Uint8Array;
  dataKey: Uint8Array;
  encryptedKey: Uint8Array;
  keyId: string;
}): Uint8Array {
  if (input.dataKey.byteLength !== 32) bad('the data key is not 32 bytes');
  const iv = randomBytes(12);
  const headerBytes = new TextEncoder().encode(
    JSON.stringify({
      format: SEALED_MODEL_FORMAT,
      keyId: input.keyId,
      encryptedKey: Buffer.from(input.encryptedKey).toString('base64'),
      iv: iv.toString('hex'),
      sha256: createHash('sha256').update(input.model).digest('hex'),
    }),
  );
  const cipher = createCipheriv('aes-256-gcm', input.dataKey, iv).setAAD(headerBytes);
  const body = Buffer.concat([cipher.update(input.model), cipher.final(), cipher.getAuthTag()]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.byteLength);
  return new Uint8Array(Buffer.concat([MAGIC, length, headerBytes, body]));
}

/** Whether the bytes begin as a sealed model does (its magic only; parse to check the rest). */
export function isSealedModel(bytes: Uint8Array): boolean {
  return bytes.byteLength >= MAGIC.byteLength && MAGIC.every((byte, i) => bytes[i] === byte);
}

/** @throws EvidenceError SEALED_MODEL_MALFORMED */
export function parseSealedModel(bytes: Uint8Array): SealedModel {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.byteLength < 8 || !buffer.subarray(0, 4).equals(MAGIC)) bad('not a sealed model');
  const length = buffer.readUInt32BE(4);
  if (length > MAX_HEADER || 8 + length + 16 > buffer.byteLength)
    bad('the header length is out of range');
  const headerBytes = new Uint8Array(buffer.subarray(8, 8 + length));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(headerBytes)) as Record<string, unknown>;
  } catch {
    return bad('the header is not JSON');
  }
  const { format, keyId, encryptedKey, iv, sha256 } = json;
  if (format !== SEALED_MODEL_FORMAT) bad(`the header is not ${SEALED_MODEL_FORMAT}`);
  if (typeof keyId !== 'string' || keyId.length > 2048) bad('keyId is not text');
  if (typeof encryptedKey !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(encryptedKey))
    bad('encryptedKey is not base64');
  if (typeof iv !== 'string' || !/^[0-9a-f]{24}$/.test(iv)) bad('iv is not 12 bytes of hex');
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
    bad('sha256 is not 32 bytes of hex');
  return {
    header: {
      format,
      keyId,
      encryptedKey: new Uint8Array(Buffer.from(encryptedKey, 'base64')),
      iv: new Uint8Array(Buffer.from(iv, 'hex')),
      sha256,
    },
    headerBytes,
    ciphertext: new Uint8Array(buffer.subarray(8 + length)),
  };
}

/**
 * Opens sealed weights with the released data key, and checks their hash.
 * @throws ChainError SEALED_MODEL_OPEN_FAILED for another key or altered bytes
 */
export function openSealedModel(sealed: SealedModel, dataKey: Uint8Array): Uint8Array {
  const { ciphertext } = sealed;
  let model: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, sealed.header.iv).setAAD(
      sealed.headerBytes,
    );
    decipher.setAuthTag(ciphertext.subarray(ciphertext.byteLength - 16));
    model = Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.byteLength - 16)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new ChainError(
      'SEALED_MODEL_OPEN_FAILED',
      'the sealed model does not open with this key, or was altered',
      {
        cause: error,
      },
    );
  }
  if (createHash('sha256').update(model).digest('hex') !== sealed.header.sha256)
    throw new ChainError(
      'SEALED_MODEL_OPEN_FAILED',
      'the opened weights do not match their recorded hash',
    );
  return new Uint8Array(model);
}
