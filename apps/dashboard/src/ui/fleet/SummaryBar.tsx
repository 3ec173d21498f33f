"use client";
import { NODE_STATUSES, type NodeStatus, type Rollout } from "../api/types";
import { StatusIcon } from "../components/StatusBadge";
import { formatDuration, toMillis } from "../components/time";
import type { StatusCounts } from "../live/fleet-store";
import { STATUS_BAR_CLASS, STATUS_LABEL, STATUS_TEXT_CLASS } from "./status";

export function RolloutProgress({ rollout }: { rollout: Rollout }) {
  const total = Math.max(rollout.total, 0);
  const pct = total === 0 ? 100 : Math.round((rollout.done / total) * 100);
  const failedPct = total === 0 ? 0 : (rollout.failed / total) * 100;
  const running = rollout.finishedAt === null || rollout.finishedAt === undefined;
  const started = toMillis(rollout.startedAt);
  const finished = toMillis(rollout.finishedAt);
  const label = running
    ? `Rolling out revision ${rollout.revision}: ${rollout.done} of ${total} nodes applied`
    : `Revision ${rollout.revision} rolled out to ${rollout.done} of ${total} nodes`;
  return (
    <div className="min-w-0 flex-1">
      <div className="mb-1.5 flex flex-wrap items-baseline justify-between gap-x-4 text-sm">
        <span id="rollout-label" className="font-medium text-zinc-800 dark:text-zinc-200">
          {label}
        </span>
        <span className="text-xs text-zinc-600 tabular-nums dark:text-zinc-400">
          {rollout.pending > 0 ? `${rollout.pending} pending` : null}
          {rollout.failed > 0 ? (
            <span className="ml-2 text-red-700 dark:text-red-400">{rollout.failed} failed</span>
          ) : null}
          {!running && started !== null && finished !== null ? (
            <span className="ml-2">in {formatDuration(finished - started)}</span>
          ) : null}
        </span>
      </div>
      <div
        role="progressbar"
        aria-labelledby="rollout-label"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={rollout.done}
        className="flex h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        <div
          className={`h-full transition-[width] duration-500 ${running ? "bg-indigo-500" : rollout.failed > 0 ? "bg-amber-500" : "bg-emerald-500"}`}
          style={{ width: `${Math.min(pct, 100)}%` }}
        />
        {failedPct > 0 ? (
          <div className="h-full bg-red-500" style={{ width: `${failedPct}%` }} />
        ) : null}
      </div>
    </div>
  );
}

export function SummaryBar({
  counts,
  total,
  revision,
  rollout,
  selected,
  onSelect,
}: {
  counts: StatusCounts;
  total: number;
  revision: string | null;
  rollout: Rollout | null;
  selected: NodeStatus | "all";
  onSelect: (s: NodeStatus | "all") => void;
}) {
  return (
    <section
      aria-label="Fleet summary"
      className="mb-4 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex flex-wrap items-center gap-x-6 gap-y-3">
        <fieldset className="flex flex-wrap items-center gap-2">
          <legend className="sr-only">Filter by status</legend>
          <button
            type="button"
            aria-pressed={selected === "all"}
            onClick={() => onSelect("all")}
            className={`rounded-lg px-3 py-1.5 text-left ring-1 ring-inset transition-colors focus-visible:outline-2 focus-visible:outline-indigo-500 ${
              selected === "all"
                ? "bg-zinc-900 text-white ring-zinc-900 dark:bg-zinc-100 dark:text-zinc-900 dark:ring-zinc-100"
                : "ring-zinc-200 hover:bg-zinc-50 dark:ring-zinc-700 dark:hover:bg-zinc-800"
            }`}
          >
            <span className="block text-lg leading-tight font-semibold tabular-nums">{total}</span>
            <span className="block text-xs opacity-80">All nodes</span>
          </button>
          {NODE_STATUSES.map((s) => (
            <button
              key={s}
              type="button"
              aria-pressed={selected === s}
              onClick={() => onSelect(selected === s ? "all" : s)}
              className={`rounded-lg px-3 py-1.5 text-left ring-1 ring-inset transition-colors focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                selected === s
                  ? "bg-zinc-100 ring-zinc-900 dark:bg-zinc-800 dark:ring-zinc-100"
                  : "ring-zinc-200 hover:bg-zinc-50 dark:ring-zinc-700 dark:hover:bg-zinc-800"
              } ${counts[s] === 0 && selected !== s ? "opacity-60" : ""}`}
            >
              <span
                className={`flex items-center gap-1.5 text-lg leading-tight font-semibold tabular-nums ${STATUS_TEXT_CLASS[s]}`}
              >
                <StatusIcon status={s} className="size-4" />
                {counts[s]}
              </span>
              <span className="block text-xs text-zinc-600 dark:text-zinc-400">
                {STATUS_LABEL[s]}
              </span>
            </button>
          ))}
        </fieldset>
        <div className="ml-auto text-right text-sm">
          <span className="block text-xs text-zinc-500 dark:text-zinc-400">Config revision</span>
          <span className="font-mono font-medium text-zinc-900 dark:text-zinc-100">
            {revision ?? "—"}
          </span>
        </div>
      </div>
      {total > 0 ? (
        <div
          className="mt-4 flex h-2.5 overflow-hidden rounded-full bg-zinc-100 dark:bg-zinc-800"
          aria-hidden="true"
        >
          {NODE_STATUSES.map((s) =>
            counts[s] > 0 ? (
              <div
                key={s}
                className={`h-full ${STATUS_BAR_CLASS[s]} transition-[width] duration-500`}
                style={{ width: `${(counts[s] / total) * 100}%` }}
                title={`${counts[s]} ${STATUS_LABEL[s]}`}
              />
            ) : null,
          )}
        </div>
      ) : null}
      {rollout ? (
        <div className="mt-4 border-t border-zinc-100 pt-3 dark:border-zinc-800">
          <RolloutProgress rollout={rollout} />
        </div>
      ) : null}
    </section>
  );
}
