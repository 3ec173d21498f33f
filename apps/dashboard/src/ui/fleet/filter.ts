// Derive the visible rows from the normalized store: status and severity filters, name
// search, sort. Linear in the fleet size and allocation-light; called once per live batch.
import type { Liveness, NodeStatus, NodeSummary } from "@masq/shared";
import { byWave, inRollout, rolloutFilterText } from "./rollout-place";
import { STATUS_ORDER } from "./status";

export type SortKey = "name" | "status" | "severity" | "reporter" | "rollout";
/** A node's worst difference (last known for nodes that are not live). */
export type Severity = "critical" | "warning" | "none";
export type SeverityFilter = "all" | "critical" | "warning";

export interface FleetFilter {
  status: NodeStatus | "all";
  severity: SeverityFilter;
  q: string;
  /** Staged rollout: "all", a wave ("canary", "wave 2") or a progress ("waiting", "failed"). */
  rollout?: string;
}

export function normalizeQuery(q: string): string {
  return q.trim().toLowerCase();
}

export function worstSeverity(n: Pick<NodeSummary, "critical" | "warnings">): Severity {
  return n.critical > 0 ? "critical" : n.warnings > 0 ? "warning" : "none";
}

export function matches(node: NodeSummary, f: FleetFilter, q: string): boolean {
  if (f.status !== "all" && node.status !== f.status) return false;
  if (f.severity !== "all" && worstSeverity(node) !== f.severity) return false;
  if (f.rollout && f.rollout !== "all" && !inRollout(node, f.rollout)) return false;
  return q === "" || node.name.includes(q);
}

/** Hung reporters first, then offline ones (longest gone first), then live ones. */
const LIVENESS_ORDER: Record<Liveness, number> = { silent: 0, offline: 1, live: 2 };

function byReporter(a: NodeSummary, b: NodeSummary): number {
  const d = LIVENESS_ORDER[a.liveness] - LIVENESS_ORDER[b.liveness];
  if (d !== 0 || a.liveness === "live") return d;
  return (a.lastSeenAt ?? -Infinity) - (b.lastSeenAt ?? -Infinity);
}

/** Most critical differences first, then most warnings. */
function bySeverity(a: NodeSummary, b: NodeSummary): number {
  return b.critical - a.critical || b.warnings - a.warnings;
}

/** `names` must be sorted by name (the store keeps it so). */
export function selectRows(
  nodes: ReadonlyMap<string, NodeSummary>,
  names: readonly string[],
  filter: FleetFilter,
  sort: SortKey = "name",
): NodeSummary[] {
  const q = normalizeQuery(filter.q);
  const out: NodeSummary[] = [];
  for (const name of names) {
    const n = nodes.get(name);
    if (n && matches(n, filter, q)) out.push(n);
  }
  // Array.prototype.sort is stable: ties keep name order.
  if (sort === "status") out.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
  else if (sort === "severity") out.sort(bySeverity);
  else if (sort === "reporter") out.sort(byReporter);
  else if (sort === "rollout") out.sort(byWave);
  return out;
}

const SEVERITY_TEXT: Record<Exclude<SeverityFilter, "all">, string> = {
  critical: "critical differences",
  warning: "warnings only",
};

/** Describes the active filter for screen readers and the empty state. */
export function describeFilter(
  filter: FleetFilter,
  statusLabel: (s: NodeStatus) => string,
): string {
  const parts: string[] = [];
  if (filter.status !== "all") parts.push(`status ${statusLabel(filter.status)}`);
  if (filter.severity !== "all") parts.push(SEVERITY_TEXT[filter.severity]);
  if (filter.rollout && filter.rollout !== "all") parts.push(rolloutFilterText(filter.rollout));
  if (filter.q.trim() !== "") parts.push(`name containing "${filter.q.trim()}"`);
  return parts.join(" and ");
}
