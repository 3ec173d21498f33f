"use client";
// The merged config of several sources: its conflicts first (never pushed: nodes keep the last
// good merge), then every CIDR with the sources (ConfigMap and key, or file) that list it, and
// each scalar with the sources that decide it.
import type { CidrOrigin, ConfigSource, MergedConfigView, ScalarOrigin } from "@masq/shared";
import { sourceLabel } from "@masq/shared";
import { Callout } from "../components/Callout";
import { conflictsTitle, mergedHeading } from "./conflict-notice";

function Sources({ sources, none }: { sources: readonly ConfigSource[]; none: string }) {
  if (sources.length === 0) return <span className="text-zinc-500 dark:text-zinc-400">{none}</span>;
  return (
    <ul className="flex flex-wrap gap-1">
      {sources.map((s) => (
        <li
          key={sourceLabel(s)}
          className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
        >
          {sourceLabel(s)}
        </li>
      ))}
    </ul>
  );
}

function CidrRows({
  origins,
  masquerade,
}: {
  origins: readonly CidrOrigin[];
  masquerade: boolean;
}) {
  return origins.map((o) => (
    <tr
      key={`${masquerade}-${o.canonical}`}
      className="border-t border-zinc-100 dark:border-zinc-800"
    >
      <td className="py-1.5 pr-4 font-mono text-sm">{o.cidr}</td>
      <td className="py-1.5 pr-4 text-sm">{masquerade ? "masqueraded" : "not masqueraded"}</td>
      <td className="py-1.5">
        <Sources sources={o.sources} none="upstream default" />
      </td>
    </tr>
  ));
}

function scalarText(s: ScalarOrigin): string {
  return `${s.key}: ${String(s.value)}`;
}

/** Conflicts (or any messages) as an alert with one bullet each; nothing when there are none. */
export function ConflictList({
  title,
  conflicts,
}: {
  title: string;
  conflicts: readonly { message: string }[];
}) {
  if (conflicts.length === 0) return null;
  return (
    <Callout tone="error" role="alert" title={title}>
      <ul className="list-disc space-y-1 pl-5" aria-label="Conflicts">
        {conflicts.map((c) => (
          <li key={c.message}>{c.message}</li>
        ))}
      </ul>
    </Callout>
  );
}

/** Sources not read as they are now (a file that keeps changing): what, and since when. */
export function SourceProblems({ merge }: { merge: MergedConfigView }) {
  const problems = merge.sources.flatMap((s) => (s.problem ? [s.problem] : []));
  if (problems.length === 0) return null;
  return (
    <Callout tone="warning" title="Config sources not taken as they are now">
      <ul className="list-disc space-y-1 pl-5" aria-label="Source problems">
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </Callout>
  );
}

export function ConflictsCallout({ merge }: { merge: MergedConfigView }) {
  return (
    <ConflictList title={conflictsTitle(merge.conflicts.length)} conflicts={merge.conflicts} />
  );
}

/**
 * The merge of every source, with provenance; `desiredRevision`: what nodes run (not this merge
 * while it is not pushable).
 */
export function MergedSourcesPanel({
  merge,
  desiredRevision,
}: {
  merge: MergedConfigView;
  desiredRevision: number | null;
}) {
  const heading = mergedHeading(merge, desiredRevision);
  return (
    <section
      aria-labelledby="merged-title"
      className="rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <h2 id="merged-title" className="text-base font-semibold">
        {heading.title}
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        {heading.lead} the CIDR lists of every source together, <code>masqLinkLocal</code> and{" "}
        <code>masqLinkLocalIPv6</code> true when any source sets them (as ip-masq-agent-v2 merges).
      </p>
      <div className="mt-3 space-y-3">
        <div className="overflow-x-auto">
          <table className="w-full text-left" aria-label="Merged CIDRs and their sources">
            <thead>
              <tr className="text-xs text-zinc-500 uppercase dark:text-zinc-400">
                <th className="py-1 pr-4 font-medium">CIDR</th>
                <th className="py-1 pr-4 font-medium">Traffic</th>
                <th className="py-1 font-medium">Listed by</th>
              </tr>
            </thead>
            <tbody>
              <CidrRows origins={merge.cidrs.nonMasqueradeCIDRs} masquerade={false} />
              <CidrRows origins={merge.cidrs.masqueradeCIDRs} masquerade={true} />
            </tbody>
          </table>
        </div>
        <dl className="grid gap-2 text-sm sm:grid-cols-2" aria-label="Merged settings">
          {merge.scalars.map((s) => (
            <div key={s.key} className="flex flex-wrap items-center gap-2">
              <dt className="font-mono">{scalarText(s)}</dt>
              <dd>
                <Sources sources={s.sources} none="default" />
              </dd>
            </div>
          ))}
        </dl>
        {merge.warnings.length > 0 ? (
          <ul
            className="space-y-1 text-sm text-amber-800 dark:text-amber-300"
            aria-label="Warnings"
          >
            {merge.warnings.map((w) => (
              <li key={`${w.source ? sourceLabel(w.source) : "merge"}:${w.issue.message}`}>
                {w.source ? `${sourceLabel(w.source)}: ` : ""}
                {w.issue.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </section>
  );
}
