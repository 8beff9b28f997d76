import { sign, verify, type KeyObject } from 'node:crypto';

/** True when `key` is an ECDSA P-384 public key; never throws. */
export function isP384Key(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
}

/** ECDSA P-384/SHA-384 over `data` with a raw r||s (IEEE P1363) signature; never throws. */
export function verifyEs384(data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return verify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** ECDSA P-384/SHA-384 signature, raw r||s, computed on the libuv thread pool so the event loop stays free. */
export function signEs384(data: Uint8Array, key: KeyObject): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, (error, signature) =>
      error === null ? resolve(new Uint8Array(signature)) : reject(error),
    );
  });
}
