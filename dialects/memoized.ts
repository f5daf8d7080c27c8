// A per-key promise kept until it fails: one look-up of a query's columns or a table's, shared
// by every caller, and asked again after an error.

export function memoized<K, V>(cache: Map<K, Promise<V>>, key: K, make: () => Promise<V>): Promise<V> {
  let found = cache.get(key);
  if (!found) {
    found = make();
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}
