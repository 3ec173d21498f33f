// Node status → label, colour and ordering. Labels are exactly what operators (and the e2e
// tests) look for.
import type { NodeStatus, NodeSummary } from "@masq/shared";

export const STATUS_LABEL: Record<NodeStatus, string> = {
  "in-sync": "In sync",
  drifted: "Drifted",
  applying: "Applying",
  error: "Error",
  unknown: "Unknown",
  offline: "Offline",
};

/** Most urgent first: what an operator should look at. */
export const STATUS_ORDER: Record<NodeStatus, number> = {
  error: 0,
  drifted: 1,
  applying: 2,
  unknown: 3,
  offline: 4,
  "in-sync": 5,
};

export const STATUS_TEXT_CLASS: Record<NodeStatus, string> = {
  "in-sync": "text-emerald-700 dark:text-emerald-400",
  drifted: "text-amber-700 dark:text-amber-400",
  applying: "text-sky-700 dark:text-sky-400",
  error: "text-red-700 dark:text-red-400",
  unknown: "text-orange-700 dark:text-orange-400",
  offline: "text-zinc-500 dark:text-zinc-400",
};

export const STATUS_PILL_CLASS: Record<NodeStatus, string> = {
  "in-sync":
    "bg-emerald-50 text-emerald-800 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-400/25",
  drifted:
    "bg-amber-50 text-amber-800 ring-amber-600/25 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-400/25",
  applying:
    "bg-sky-50 text-sky-800 ring-sky-600/20 dark:bg-sky-500/10 dark:text-sky-300 dark:ring-sky-400/25",
  error:
    "bg-red-50 text-red-800 ring-red-600/20 dark:bg-red-500/10 dark:text-red-300 dark:ring-red-400/25",
  unknown:
    "bg-orange-50 text-orange-800 ring-orange-600/25 dark:bg-orange-500/10 dark:text-orange-300 dark:ring-orange-400/25",
  offline:
    "bg-zinc-100 text-zinc-700 ring-zinc-500/20 dark:bg-zinc-500/10 dark:text-zinc-300 dark:ring-zinc-400/25",
};

/** Solid colours for the stacked summary bar. */
export const STATUS_BAR_CLASS: Record<NodeStatus, string> = {
  "in-sync": "bg-emerald-500",
  drifted: "bg-amber-500",
  applying: "bg-sky-500",
  error: "bg-red-500",
  unknown: "bg-orange-500",
  offline: "bg-zinc-400 dark:bg-zinc-600",
};

export function statusLabel(s: string): string {
  return (STATUS_LABEL as Record<string, string>)[s] ?? s;
}

export function isNodeStatus(s: string): s is NodeStatus {
  return Object.hasOwn(STATUS_LABEL, s);
}

/** The status column already says "In sync": do not repeat it. */
export function shortSummary(node: Pick<NodeSummary, "status" | "summary">): string {
  if (node.status !== "in-sync") return node.summary;
  const m = /^in sync(?: \((.*)\))?$/i.exec(node.summary.trim());
  if (!m) return node.summary;
  return m[1] ? `${m[1]} only` : "";
}
