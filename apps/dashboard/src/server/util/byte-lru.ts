/**
 * A least-recently-used cache bounded by an estimate of the bytes its values hold (the caller
 * says how big each is): what memory a cache may take is what matters, not how many entries it
 * has. A value larger than the whole budget is not kept.
 */
export class ByteLru<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  /** The most recently used key (the map's last), or undefined when not known. */
  private newest: string | undefined;

  constructor(readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    // Already the most recent (thousands of identical nodes in a row): nothing to move.
    if (key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, e);
      this.newest = key;
    }
    return e.value;
  }

  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, bytes });
    this.newest = key;
    this.total += bytes;
    for (const [k, e] of this.map) {
      if (this.total <= this.maxBytes) break;
      this.map.delete(k);
      this.total -= e.bytes;
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    if (key === this.newest) this.newest = undefined;
    this.total -= e.bytes;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.map.size;
  }
}
