// Derive the visible rows from the normalized store: status filter, name search, sort.
// Linear in the fleet size and allocation-light; called once per live batch.
import type { NodeStatus, NodeSummary } from "../api/types";
import { STATUS_ORDER } from "./status";

export type SortKey = "name" | "status" | "lastSeen";
export interface FleetFilter {
  status: NodeStatus | "all";
  q: string;
}

export function normalizeQuery(q: string): string {
  return q.trim().toLowerCase();
}

export function matches(node: NodeSummary, status: FleetFilter["status"], q: string): boolean {
  if (status !== "all" && node.status !== status) return false;
  return q === "" || node.name.includes(q);
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
    if (n && matches(n, filter.status, q)) out.push(n);
  }
  if (sort === "status") {
    // Array.prototype.sort is stable: ties keep name order.
    out.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
  } else if (sort === "lastSeen") {
    out.sort((a, b) => (a.lastSeen ?? -Infinity) - (b.lastSeen ?? -Infinity));
  }
  return out;
}

/** Describes the active filter for screen readers and the empty state. */
export function describeFilter(
  filter: FleetFilter,
  statusLabel: (s: NodeStatus) => string,
): string {
  const parts: string[] = [];
  if (filter.status !== "all") parts.push(`status ${statusLabel(filter.status)}`);
  if (filter.q.trim() !== "") parts.push(`name containing "${filter.q.trim()}"`);
  return parts.join(" and ");
}
