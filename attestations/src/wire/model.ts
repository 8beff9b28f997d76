/**
 * Model identity (`veritee.model/v1`): SHA-256 over the length-prefixed tag,
 * the SHA-256 of the model file and the SHA-256 of its configuration (the
 * tokenizer and I/O names), so a receipt names exactly what ran.
 */
import { createHash } from 'node:crypto';

export const MODEL_IDENTITY_FORMAT = 'veritee.model/v1';

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** The model hash that bindings and receipts carry. */
export function modelHash(modelBytesSha256: Uint8Array, configBytesSha256: Uint8Array): Uint8Array {
  const hash = createHash('sha256');
  for (const part of [Buffer.from(MODEL_IDENTITY_FORMAT), modelBytesSha256, configBytesSha256]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.byteLength);
    hash.update(length).update(part);
  }
  return new Uint8Array(hash.digest());
}
