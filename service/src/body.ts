/**
 * Reads a request body while counting it: past `limit` bytes the rest is
 * drained unread (so the client can read the 413), and an absurd body is cut
 * off, so no body costs more than its limit in memory.
 */
import type { IncomingMessage } from 'node:http';
import { RequestError } from '@veritee/attestations';

// Bodies past the limit are drained, not buffered, so the client reads our 413; absurd ones are cut off.
const DRAIN_FACTOR = 16;

/** @throws RequestError 413 REQUEST_TOO_LARGE */
export async function readBoundedBody(
  request: IncomingMessage,
  limit: number,
): Promise<Uint8Array> {
  const tooLarge = () =>
    new RequestError(413, 'REQUEST_TOO_LARGE', `body is larger than ${limit} bytes`);
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limit * DRAIN_FACTOR) {
    request.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > limit * DRAIN_FACTOR) {
      request.destroy();
      break;
    }
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw tooLarge();
  return new Uint8Array(Buffer.concat(chunks));
}
