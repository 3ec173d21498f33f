// Each stored revision parsed once: a revision's text never changes, so GET /api/history and
// the config service parse it the first time it is asked for and reuse the result, with one
// value derived from it (its history entry, which also depends on the revision before it).
// Bounded by entry count and by the bytes of text held, least recently used first out.
import type { ConfigResult } from "@masq/shared";
import type { ConfigRevision } from "../store/types.js";

interface Entry {
  text: string;
  result: ConfigResult;
  derived?: { key: string; value: unknown };
}

export class RevisionCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly parse: (text: string) => ConfigResult,
    readonly maxEntries = 600,
    readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** The parse of `rev`, computed at most once while it stays cached. */
  get(rev: ConfigRevision): ConfigResult {
    return this.entry(rev).result;
  }

  /** A value computed from `rev` (and whatever `key` names), kept with it; one per revision. */
  derived<T>(rev: ConfigRevision, key: string, compute: (result: ConfigResult) => T): T {
    const e = this.entry(rev);
    if (e.derived?.key !== key) e.derived = { key, value: compute(e.result) };
    return e.derived.value as T;
  }

  size(): number {
    return this.entries.size;
  }

  private entry(rev: ConfigRevision): Entry {
    const hit = this.entries.get(rev.resourceVersion);
    if (hit && hit.text === rev.text) {
      this.entries.delete(rev.resourceVersion); // re-insert: most recently used last
      this.entries.set(rev.resourceVersion, hit);
      return hit;
    }
    if (hit) this.drop(rev.resourceVersion, hit);
    const e: Entry = { text: rev.text, result: this.parse(rev.text) };
    this.entries.set(rev.resourceVersion, e);
    this.bytes += rev.text.length;
    this.evict();
    return e;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.text.length;
  }

  private evict(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return;
      this.drop(key, e);
    }
  }
}
