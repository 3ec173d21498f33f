/**
 * A small expiring cache (auth decisions), bounded so a token flood cannot grow it. Times are
 * monotonic (performance.now ms): on the wall clock a step forward dropped every decision, a
 * step back kept a revoked token's for the length of the step.
 */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(key: string, now = performance.now()): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number, now = performance.now()): void {
    this.map.delete(key);
    this.map.set(key, { value, expires: now + ttlMs });
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }
}
