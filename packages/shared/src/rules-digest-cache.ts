// The dashboard's rules by digest (issue 17): the `linux` parts it received whole and checked,
// under the digest it computed itself, so a snapshot naming that digest is judged from them.
// One per dashboard, shared by every connection. Least recently used first out, bounded in
// entries and in canonical text; never mutate what `get` returns (nodes share it).

/**
 * Distinct `linux` parts kept. The cache pays off for rules several nodes share (a fleet holds
 * a few such sets: one per node pool and revision); a node's own rules stay reachable through
 * its connection (snapshot-digests.ts) however small this is. Rules only one node holds (a
 * hand edit, a per-node subnet) are kept too, for nothing, and pushed out first while the
 * shared ones are used at every push.
 */
export const DIGEST_CACHE_ENTRIES = 256;
/** Characters of canonical text kept in all (the held objects take ~2–3× that in the heap). */
export const DIGEST_CACHE_CHARS = 4 * 1024 * 1024;

export interface DigestCacheOptions {
  maxEntries?: number;
  maxChars?: number;
}

export class RulesDigestCache<T> {
  /** Digest → content, least recently used first (Map keeps insertion order). */
  private readonly entries = new Map<string, { value: T; chars: number }>();
  private held = 0;
  private readonly maxEntries: number;
  private readonly maxChars: number;
  hits = 0;
  misses = 0;

  constructor(o: DigestCacheOptions = {}) {
    this.maxEntries = o.maxEntries ?? DIGEST_CACHE_ENTRIES;
    this.maxChars = o.maxChars ?? DIGEST_CACHE_CHARS;
  }

  /** The content checked under `digest`, if held (it becomes the most recently used). */
  get(digest: string): T | undefined {
    const e = this.entries.get(digest);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(digest);
    this.entries.set(digest, e);
    this.hits++;
    return e.value;
  }

  /**
   * Keeps `value` under `digest`, which the caller computed from it (never a peer's claim);
   * `chars`: its canonical text's length. Content larger than the whole budget is not kept.
   */
  put(digest: string, value: T, chars: number): void {
    const old = this.entries.get(digest);
    if (old) {
      this.entries.delete(digest);
      this.held -= old.chars;
    }
    if (chars > this.maxChars) return;
    this.entries.set(digest, { value, chars });
    this.held += chars;
    for (const [d, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.held <= this.maxChars) break;
      this.entries.delete(d);
      this.held -= e.chars;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Canonical characters held. */
  get chars(): number {
    return this.held;
  }
}
