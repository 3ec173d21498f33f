// GET /api/history's entries: each revision with its parse and its diff from the revision
// before it. Both come from the revision cache, so a revision is parsed once however often the
// history is read; the event loop is let through after every entry.
import { diffConfigs, type Revision } from "@masq/shared";
import type { ConfigRevision } from "../store/types.js";
import type { RevisionCache } from "./revision-cache.js";
import { yieldToEventLoop } from "./work-queue.js";

/** One entry of GET /api/history: the shared wire type. */
export type HistoryEntry = Revision;

function build(
  cache: RevisionCache,
  rev: ConfigRevision,
  older: ConfigRevision | undefined,
): HistoryEntry {
  const before = older ? cache.get(older) : undefined;
  return cache.derived(rev, older?.resourceVersion ?? "", (r) => {
    const config = r.ok ? r.config : null;
    return {
      resourceVersion: rev.resourceVersion,
      revision: rev.revision,
      author: rev.author,
      time: rev.updatedAt,
      message: rev.message,
      yaml: rev.text,
      config,
      valid: r.ok,
      errors: r.ok ? [] : r.errors,
      diff: diffConfigs(before?.ok ? before.config : null, config),
    };
  });
}

/** The newest `limit` revisions of `all` (newest first), each against the one before it. */
export async function historyEntries(
  cache: RevisionCache,
  all: readonly ConfigRevision[],
  limit: number,
): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  for (let i = 0; i < Math.min(limit, all.length); i++) {
    out.push(build(cache, all[i]!, all[i + 1]));
    await yieldToEventLoop();
  }
  return out;
}
