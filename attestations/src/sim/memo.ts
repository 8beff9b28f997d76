/**
 * Memoizes an async computation by a string key: the simulator issues each
 * endorsement, CRL and Nitro leaf once and reuses it, since key generation and
 * RSA-4096 signatures cost milliseconds.
 */
export function memoizeAsync<A extends unknown[], T>(
  keyOf: (...args: A) => string,
  compute: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (...args: A) => {
    const key = keyOf(...args);
    let value = cache.get(key);
    if (value === undefined) {
      value = compute(...args);
      cache.set(key, value);
    }
    return value;
  };
}
