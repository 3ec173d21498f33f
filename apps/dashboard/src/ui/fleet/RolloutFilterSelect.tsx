"use client";
import type { NodeSummary } from "@masq/shared";
import { useMemo } from "react";
import { rolloutOptions } from "./rollout-place";

/**
 * Filters the fleet by staged-rollout wave or progress; shown while nodes have a place in one
 * (or while a filter is set, so it can be cleared after the rollout ends).
 */
export function RolloutFilterSelect({
  nodes,
  value,
  onChange,
}: {
  nodes: ReadonlyMap<string, NodeSummary>;
  value: string;
  onChange: (v: string) => void;
}) {
  const options = useMemo(() => rolloutOptions(nodes.values()), [nodes]);
  if (options.length === 0 && value === "all") return null;
  const known = value === "all" || options.some((o) => o.value === value);
  return (
    <span className="flex items-center gap-2 text-sm text-zinc-700 dark:text-zinc-300">
      <label htmlFor="rollout-filter">Rollout</label>
      <select
        id="rollout-filter"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="h-9 rounded-md border-0 bg-white py-0 pr-8 pl-2 text-sm text-zinc-900 ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-700"
      >
        <option value="all">All nodes</option>
        {known ? null : <option value={value}>{value}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </span>
  );
}
