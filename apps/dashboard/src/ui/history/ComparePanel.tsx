"use client";
// Any two revisions side by side: every key old → new, CIDRs added and removed, and what the
// change means for traffic on today's nodes (computed by the server as the save review does).
import type { ConfigDiff, DestinationImpact, Impact, KeyChange, Revision } from "@masq/shared";
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { DiffChips } from "../components/DiffChips";
import { ErrorState } from "../components/States";
import { compareSentence } from "../config/draft";
import { ImpactList } from "../rollout/ImpactList";

const show = (v: unknown) =>
  v === undefined ? "(not set)" : Array.isArray(v) ? v.join(", ") || "(none)" : String(v);

/** The nodes sentence of a comparison: not a save, so nothing "will be applied". */
const changedRules = (n: number) =>
  n === 0
    ? "No connected node's rules differ between the two."
    : `The rules of ${n} connected node${n === 1 ? "" : "s"} differ between the two.`;

function CompareResult({
  from,
  to,
}: {
  /** History entries by resourceVersion. */
  from: string;
  to: string;
}) {
  const q = useQuery({
    queryKey: ["compare", from, to],
    queryFn: ({ signal }) => endpoints.compare(from, to, signal),
  });
  if (q.isPending) return <p className="text-sm text-zinc-500">Comparing…</p>;
  if (q.isError)
    return <ErrorState error={q.error} what="the comparison" onRetry={() => void q.refetch()} />;
  const c = q.data;
  return (
    <CompareBody
      fromLabel={`Revision ${c.from.revision}${c.merged ? ", merged" : ""}`}
      toLabel={`Revision ${c.to.revision}${c.merged ? ", merged" : ""}`}
      notes={c.notes}
      keys={c.keys}
      diff={c.diff}
      impact={c.impact}
      nodesText={changedRules}
      sentence={compareSentence}
    />
  );
}

/** A server-computed comparison: every key old → new, CIDRs added and removed, the impact. */
export function CompareBody({
  fromLabel,
  toLabel,
  keys,
  diff,
  impact,
  nodesText,
  sentence,
  notes = [],
}: {
  fromLabel: string;
  toLabel: string;
  /** What to know to read it (aborted rollout, merged sources), from the server. */
  notes?: string[];
  keys: KeyChange[];
  diff: ConfigDiff;
  impact: Impact;
  /** The closing sentence about nodes (default: the save's). */
  nodesText?: (nodes: number) => string;
  /** One destination's sentence (default: a change to come). */
  sentence?: (d: DestinationImpact) => string;
}) {
  return (
    <div className="space-y-4">
      {notes.map((n) => (
        <p key={n} className="text-sm" role="note">
          {n}
        </p>
      ))}
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">
            Every setting, {fromLabel} → {toLabel}
          </caption>
          <thead className="text-xs text-zinc-600 dark:text-zinc-400">
            <tr>
              <th className="py-1 pr-3 font-medium">Setting</th>
              <th className="py-1 pr-3 font-medium">{fromLabel}</th>
              <th className="py-1 font-medium">{toLabel}</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr
                key={k.key}
                className={`border-t border-zinc-100 dark:border-zinc-800 ${k.changed ? "font-medium" : "text-zinc-500"}`}
              >
                <td className="py-1 pr-3 font-mono">
                  {k.key}
                  {k.changed ? <span className="sr-only"> (changed)</span> : null}
                </td>
                <td className="py-1 pr-3 font-mono break-all">{show(k.from)}</td>
                <td className="py-1 font-mono break-all">
                  {k.changed ? "→ " : ""}
                  {show(k.to)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <DiffChips diff={diff} scalars={diff.scalars} empty="Same config" />
      <section>
        <h3 className="mb-1 text-sm font-semibold">What it means for traffic</h3>
        <ImpactList impact={impact} nodesText={nodesText} sentence={sentence} />
      </section>
    </div>
  );
}

export function ComparePanel({ revisions }: { revisions: Revision[] }) {
  const id = useId();
  const valid = revisions.filter((r) => r.valid !== false);
  const [from, setFrom] = useState(valid[1]?.resourceVersion ?? "");
  const [to, setTo] = useState(valid[0]?.resourceVersion ?? "");
  const [shown, setShown] = useState<{ from: string; to: string } | null>(null);
  if (valid.length < 2) return null;
  const pick = (value: string, set: (v: string) => void, label: string, key: string) => (
    <label className="flex items-center gap-1.5 text-sm" htmlFor={`${id}-${key}`}>
      {label}
      <select
        id={`${id}-${key}`}
        value={value}
        onChange={(e) => set(e.target.value)}
        className="h-8 rounded-md border-0 bg-white px-2 text-sm ring-1 ring-zinc-300 ring-inset dark:bg-zinc-950 dark:ring-zinc-700"
      >
        {valid.map((r) => (
          <option key={r.resourceVersion} value={r.resourceVersion}>
            revision {r.revision} ({r.author || "unknown"})
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section
      aria-label="Compare revisions"
      className="mb-6 rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex flex-wrap items-center gap-3">
        <h2 className="text-sm font-semibold">Compare</h2>
        {pick(from, setFrom, "from", "from")}
        {pick(to, setTo, "to", "to")}
        <Button size="sm" disabled={from === to} onClick={() => setShown({ from, to })}>
          Compare
        </Button>
      </div>
      {shown ? (
        <div className="mt-4">
          <CompareResult from={shown.from} to={shown.to} />
        </div>
      ) : null}
    </section>
  );
}
