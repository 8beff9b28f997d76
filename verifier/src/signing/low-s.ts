/**
 * ECDSA signatures are malleable: (r, s) and (r, n - s) both verify. The
 * verifier signs only with the low s (s <= n/2), so each statement it signs
 * has one signature, and it accepts back (broker challenges) only that one.
 */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;
const COMPONENT = 32;

function sOf(signature: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(signature.subarray(COMPONENT)).toString('hex')}`);
}

/** A compact ES256 JWS with its signature's s made low; other input is returned as it is. */
export function withLowS(jws: string): string {
  const [header, payload, encoded] = jws.split('.');
  const signature = new Uint8Array(Buffer.from(encoded ?? '', 'base64url'));
  if (signature.byteLength !== 2 * COMPONENT) return jws;
  const s = sOf(signature);
  if (s <= HALF_N) return jws;
  const low = Buffer.from((P256_N - s).toString(16).padStart(2 * COMPONENT, '0'), 'hex');
  signature.set(low, COMPONENT);
  return `${header}.${payload}.${Buffer.from(signature).toString('base64url')}`;
}

/** Whether a compact ES256 JWS carries the low-s form of its signature; never throws. */
export function hasLowS(jws: string): boolean {
  const signature = new Uint8Array(Buffer.from(jws.split('.')[2] ?? '', 'base64url'));
  return signature.byteLength === 2 * COMPONENT && sOf(signature) <= HALF_N;
}
