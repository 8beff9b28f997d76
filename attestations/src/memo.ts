/**
 * A bounded memo: a value computed once per key and kept, for facts that do
 * not change (a certificate parsed from its bytes, whether a signature
 * verifies). When full it is cleared, so memory stays bounded whatever a
 * stranger sends. A computation that throws leaves nothing behind.
 */
export interface Memo<T> {
  /** `compute()`'s value for `key`, computed once. The key must name everything the value depends on. */
  remember(key: string, compute: () => T): T;
  /** Forgets every value (benchmarks measure a first sight this way). */
  clear(): void;
  /** Forgets the values whose keys start with `prefix` (one certificate's links, say). */
  forget(prefix: string): void;
  /** Keeps a value computed elsewhere under the same key (by the same code in another thread). */
  keep(key: string, value: T): void;
  /** Tells `listener` of every value computed from now on, until the returned function is called. */
  watch(listener: (key: string, value: T) => void): () => void;
  readonly size: number;
}

export function createMemo<T>(max: number): Memo<T> {
  const values = new Map<string, T>();
  const listeners = new Set<(key: string, value: T) => void>();
  const keep = (key: string, value: T) => {
    if (values.size >= max) values.clear();
    values.set(key, value);
  };
  return {
    remember(key, compute) {
      if (values.has(key)) return values.get(key) as T;
      const value = compute();
      keep(key, value);
      for (const listener of listeners) listener(key, value);
      return value;
    },
    keep,
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clear: () => values.clear(),
    forget(prefix) {
      for (const key of values.keys()) if (key.startsWith(prefix)) values.delete(key);
    },
    get size() {
      return values.size;
    },
  };
}
