"use client";
import { NODE_STATUSES, type NodeStatus, type Rollout } from "@masq/shared";
import { StatusIcon } from "../components/StatusBadge";
import { reviewBaseline } from "../config/review-baseline";
import type { StatusCounts } from "../live/fleet-store";
import type { SeverityFilter } from "./filter";
import { abortedBehind, doneBarClass, rolloutCountParts, rolloutLabel } from "./rollout-label";
import { STATUS_BAR_CLASS, STATUS_LABEL, STATUS_TEXT_CLASS } from "./status";

/** Nodes by their worst difference, and reporters that stopped answering. */
export interface AttentionCounts {
  critical: number;
  warning: number;
  silent: number;
}

const SEVERITY_BUTTONS: { key: Exclude<SeverityFilter, "all">; label: string; cls: string }[] = [
  { key: "critical", label: "Critical", cls: "text-red-700 dark:text-red-400" },
  { key: "warning", label: "Warnings only", cls: "text-amber-700 dark:text-amber-400" },
];

/** "Critical 1", "Warnings only 2": filter the table by how bad the drift is. */
function SeverityFilters({
  counts,
  selected,
  onSelect,
}: {
  counts: AttentionCounts;
  selected: SeverityFilter;
  onSelect: (s: SeverityFilter) => void;
}) {
  return (
    <fieldset className="flex flex-wrap items-center gap-2">
      <legend className="sr-only">Filter by severity</legend>
      {SEVERITY_BUTTONS.map((b) => (
        <button
          key={b.key}
          type="button"
          aria-pressed={selected === b.key}
          onClick={() => onSelect(selected === b.key ? "all" : b.key)}
          className={`rounded-lg px-3 py-1.5 text-left ring-1 ring-inset transition-colors focus-visible:outline-2 focus-visible:outline-indigo-500 ${
            selected === b.key
              ? "bg-zinc-100 ring-zinc-900 dark:bg-zinc-800 dark:ring-zinc-100"
              : "ring-zinc-200 hover:bg-zinc-50 dark:ring-zinc-700 dark:hover:bg-zinc-800"
          } ${counts[b.key] === 0 && selected !== b.key ? "opacity-60" : ""}`}
        >
          <span className={`block text-lg leading-tight font-semibold tabular-nums ${b.cls}`}>
            {counts[b.key]}
          </span>
          <span className="block text-xs text-zinc-600 dark:text-zinc-400">{b.label}</span>
        </button>
      ))}
      {counts.silent > 0 ? (
        <span
          className="rounded-lg bg-amber-50 px-3 py-1.5 text-xs font-medium text-amber-900 ring-1 ring-amber-600/25 ring-inset dark:bg-amber-500/10 dark:text-amber-200"
          title="Connected, but nothing (not even a heartbeat) arrived lately: maybe hung"
        >
          {counts.silent} not responding
        </span>
      ) : null}
    </fieldset>
  );
}

function RolloutCounts({ rollout }: { rollout: Rollout }) {
  const parts = rolloutCountParts(rollout);
  return (
    <span
      className="text-xs text-zinc-600 tabular-nums dark:text-zinc-400"
      data-testid="rollout-counts"
    >
      {parts.map(([text, cls], i) => (
        <span key={text} className={cls}>
          {i > 0 ? " · " : ""}
          {text}
        </span>
      ))}
    </span>
  );
}

/**
 * A rollout: "2 of 3 nodes applied · 1 offline, pending until it reconnects" while running;
 * once finished its counts and duration stay as they were, later catch-ups counted apart.
 * Resumed after a dashboard restart: "waiting for nodes to reconnect" until one has, then the
 * nodes not back yet counted apart (rollout-label.ts).
 * "Applied" is the server's `done`: applied, its post-apply rules judged, not failed (a staged
 * rollout's drifted canary is failed here as on its wave's card).
 */
export function RolloutProgress({
  rollout,
  aborted = null,
}: {
  rollout: Rollout;
  /** The revision whose abort this rollout reverts (abortedBehind); null: none. */
  aborted?: number | null;
}) {
  const total = Math.max(rollout.total, 0);
  const share = (n: number) => (total === 0 ? 0 : (n / total) * 100);
  const label = rolloutLabel(rollout, aborted);
  return (
    <div className="min-w-0 flex-1">
      <div className="mb-1.5 flex flex-wrap items-baseline justify-between gap-x-4 text-sm">
        <span id="rollout-label" className="font-medium text-zinc-800 dark:text-zinc-200">
          {label}
        </span>
        <RolloutCounts rollout={rollout} />
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
          className={`h-full transition-[width] duration-500 ${doneBarClass(rollout)}`}
          style={{ width: `${total === 0 ? 100 : Math.min(share(rollout.done), 100)}%` }}
        />
        {rollout.failed > 0 ? (
          <div className="h-full bg-red-500" style={{ width: `${share(rollout.failed)}%` }} />
        ) : null}
        {rollout.offline > 0 ? (
          <div
            className="h-full bg-zinc-400 dark:bg-zinc-600"
            style={{ width: `${share(rollout.offline)}%` }}
            title={`${rollout.offline} offline`}
          />
        ) : null}
      </div>
    </div>
  );
}

export function SummaryBar({
  counts,
  attention,
  total,
  revision,
  desiredRevision,
  abortedRevision,
  rollout,
  selected,
  onSelect,
  severity,
  onSeverity,
}: {
  counts: StatusCounts;
  attention: AttentionCounts;
  total: number;
  revision: number | null;
  /** The revision nodes enforce (after an aborted rollout the stable one, not `revision`). */
  desiredRevision: number | null;
  /** The revision whose staged rollout was aborted, as the server says; null: none. */
  abortedRevision: number | null;
  rollout: Rollout | null;
  selected: NodeStatus | "all";
  onSelect: (s: NodeStatus | "all") => void;
  severity: SeverityFilter;
  onSeverity: (s: SeverityFilter) => void;
}) {
  const baseline =
    revision === null ? null : reviewBaseline(revision, desiredRevision, abortedRevision);
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
        <SeverityFilters counts={attention} selected={severity} onSelect={onSeverity} />
        <div className="ml-auto text-right text-sm">
          <span className="block text-xs text-zinc-500 dark:text-zinc-400">Config revision</span>
          <span className="font-mono font-medium text-zinc-900 dark:text-zinc-100">
            {baseline?.revision ?? "—"}
          </span>
          {baseline?.aborted != null ? (
            <span className="block text-xs text-zinc-600 dark:text-zinc-400">
              nodes run it; revision {baseline.aborted} was aborted
            </span>
          ) : null}
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
          <RolloutProgress
            rollout={rollout}
            aborted={abortedBehind(rollout, abortedRevision, desiredRevision)}
          />
        </div>
      ) : null}
    </section>
  );
}
