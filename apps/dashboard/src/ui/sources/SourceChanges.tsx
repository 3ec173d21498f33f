"use client";
// The History page's record of the other config sources: which source changed (a key of an
// `ip-masq-*` ConfigMap, or a file), how, and what nodes got from it. Shown only when there is
// one; the revisions above it are the ip-masq-agent ConfigMap's own.
import { useQuery } from "@tanstack/react-query";
import { endpoints } from "../api/endpoints";
import { DiffChips } from "../components/DiffChips";
import { RelativeTime } from "../components/Time";
import { useRefetchOnLive } from "../live/refetch-on-live";

const WHAT = { added: "added", changed: "changed", removed: "removed" } as const;

export function SourceChanges() {
  const q = useQuery({
    queryKey: ["history-sources"],
    queryFn: ({ signal }) => endpoints.sourceHistory(signal),
  });
  useRefetchOnLive(["config", "hello"], ["history-sources"]);
  const changes = q.data?.changes ?? [];
  if (changes.length === 0) return null;
  return (
    <section aria-labelledby="source-changes" className="mt-8">
      <h2 id="source-changes" className="text-base font-semibold">
        Changes of the other config sources
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        Seen by this dashboard since it started; roll one back by editing that source.
      </p>
      <ul className="mt-3 space-y-2">
        {changes.map((c) => (
          <li
            key={`${c.label}@${c.time}@${c.resourceVersion}`}
            className="rounded-xl border border-zinc-200 bg-white p-3 text-sm dark:border-zinc-800 dark:bg-zinc-900"
          >
            <p>
              <strong>{c.label}</strong> {WHAT[c.change]}
              {c.author ? ` by ${c.author}` : ""} · <RelativeTime value={c.time} /> ·{" "}
              {c.revision === null
                ? "not pushed: the sources conflicted"
                : `nodes got revision ${c.revision}`}
            </p>
            <div className="mt-2">
              <DiffChips diff={c.diff} scalars={c.diff.scalars} />
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
