/**
 * A map that holds at most `maxEntries` entries: adding one more drops the entry used least
 * recently (read by `get` or written by `set`). For caches of values that are cheap to make
 * again, so that what a cache remembers stays bounded whatever its callers bring.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError(`an LRU cache holds at least one entry, not ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value for `key`, which becomes the most recently used; undefined if absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined && !this.entries.has(key)) return undefined;
    // A Map keeps insertion order: moving the entry to the end marks it used last.
    this.entries.delete(key);
    this.entries.set(key, value as V);
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  /** Drops every entry. */
  clear(): void {
    this.entries.clear();
  }
}
