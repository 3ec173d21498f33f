// Which source changed, and how (GET /api/history/sources): every change of a config source
// besides the primary one (whose revisions are the store's history), as this dashboard process
// saw it, with the merged revision it led to. Bounded; kept in memory, so it starts empty
// after a restart (the primary source's history is the persisted one).
import {
  type ConfigResult,
  diffSetKeys,
  type SourceChange,
  sourceId,
  sourceLabel,
} from "@masq/shared";
import type { ExtraSource } from "../store/sources.js";

/** Changes kept (oldest dropped first). */
export const SOURCE_HISTORY_LIMIT = 200;

export class SourceHistory {
  private readonly changes: SourceChange[] = [];

  constructor(private readonly parse: (text: string) => ConfigResult) {}

  /** Records what differs between two reads of the sources. */
  note(before: readonly ExtraSource[], after: readonly ExtraSource[], revision: number | null) {
    const old = new Map(before.map((s) => [sourceId(s.source), s]));
    const time = new Date().toISOString();
    for (const s of after) {
      const prev = old.get(sourceId(s.source));
      old.delete(sourceId(s.source));
      if (prev?.resourceVersion === s.resourceVersion && prev.text === s.text) continue;
      if (prev?.text === s.text) continue; // another key of the same ConfigMap changed
      this.push(prev, s, prev ? "changed" : "added", time, revision);
    }
    for (const gone of old.values()) this.push(gone, undefined, "removed", time, revision);
  }

  /** Newest first. */
  list(limit = SOURCE_HISTORY_LIMIT): SourceChange[] {
    return this.changes.slice(-limit).reverse();
  }

  private push(
    prev: ExtraSource | undefined,
    next: ExtraSource | undefined,
    change: SourceChange["change"],
    time: string,
    revision: number | null,
  ): void {
    const s = (next ?? prev)!;
    // The keys the source sets, not the defaults its parse fills in (no source's in a merge).
    const config = (x: ExtraSource | undefined) => {
      const r = x ? this.parse(x.text) : undefined;
      return r?.ok ? r : null;
    };
    this.changes.push({
      source: s.source,
      label: sourceLabel(s.source),
      change,
      resourceVersion: next?.resourceVersion ?? "",
      author: next?.author ?? "",
      time,
      yaml: next?.text ?? "",
      diff: diffSetKeys(config(prev), config(next)),
      revision,
    });
    if (this.changes.length > SOURCE_HISTORY_LIMIT) this.changes.shift();
  }
}
