import type { ConfigDiff, ScalarChange } from "@masq/shared";
import { describeScalar } from "../config/draft";

/** Added CIDRs in green, removed in red (struck through), changed keys in grey. */
export function DiffChips({
  diff,
  scalars,
  empty = "No changes",
}: {
  diff: ConfigDiff;
  scalars?: ScalarChange[];
  empty?: string;
}) {
  const changed = scalars
    ? scalars
        .map(describeScalar)
        .concat(diff.changed.filter((c) => !scalars.some((s) => s.key === c)))
    : diff.changed;
  // Older payloads (history entries cached before masqueradeCIDRs) have no exception fields.
  const exAdded = diff.exceptionsAdded ?? [];
  const exRemoved = diff.exceptionsRemoved ?? [];
  if (
    diff.added.length === 0 &&
    diff.removed.length === 0 &&
    changed.length === 0 &&
    exAdded.length === 0 &&
    exRemoved.length === 0
  ) {
    return <span className="text-sm text-zinc-500 dark:text-zinc-400">{empty}</span>;
  }
  return (
    <ul className="flex flex-wrap gap-1.5" aria-label="Changes">
      {diff.added.map((c) => (
        <li
          key={`+${c}`}
          className="inline-flex items-center rounded-md bg-emerald-50 px-2 py-0.5 font-mono text-xs text-emerald-800 ring-1 ring-emerald-600/20 ring-inset dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-400/25"
        >
          <span aria-hidden="true" className="mr-1 font-sans font-bold">
            +
          </span>
          <span className="sr-only">added </span>
          {c}
        </li>
      ))}
      {diff.removed.map((c) => (
        <li
          key={`-${c}`}
          className="inline-flex items-center rounded-md bg-red-50 px-2 py-0.5 font-mono text-xs text-red-800 ring-1 ring-red-600/20 ring-inset dark:bg-red-500/10 dark:text-red-300 dark:ring-red-400/25"
        >
          <span aria-hidden="true" className="mr-1 font-sans font-bold">
            −
          </span>
          <span className="sr-only">removed </span>
          <span className="line-through decoration-red-500/60">{c}</span>
        </li>
      ))}
      {exAdded.map((c) => (
        <li
          key={`+m${c}`}
          className="inline-flex items-center rounded-md bg-amber-50 px-2 py-0.5 font-mono text-xs text-amber-900 ring-1 ring-amber-600/20 ring-inset dark:bg-amber-500/10 dark:text-amber-200 dark:ring-amber-400/25"
        >
          <span aria-hidden="true" className="mr-1 font-sans font-bold">
            +
          </span>
          <span className="sr-only">added masquerade exception </span>
          {c}
          <span className="ml-1 font-sans text-[10px]">masqueradeCIDRs</span>
        </li>
      ))}
      {exRemoved.map((c) => (
        <li
          key={`-m${c}`}
          className="inline-flex items-center rounded-md bg-red-50 px-2 py-0.5 font-mono text-xs text-red-800 ring-1 ring-red-600/20 ring-inset dark:bg-red-500/10 dark:text-red-300 dark:ring-red-400/25"
        >
          <span aria-hidden="true" className="mr-1 font-sans font-bold">
            −
          </span>
          <span className="sr-only">removed masquerade exception </span>
          <span className="line-through decoration-red-500/60">{c}</span>
          <span className="ml-1 font-sans text-[10px]">masqueradeCIDRs</span>
        </li>
      ))}
      {changed.map((c) => (
        <li
          key={`~${c}`}
          className="inline-flex items-center rounded-md bg-zinc-100 px-2 py-0.5 font-mono text-xs text-zinc-700 ring-1 ring-zinc-500/20 ring-inset dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600/40"
        >
          <span className="sr-only">changed </span>
          {c}
        </li>
      ))}
    </ul>
  );
}
