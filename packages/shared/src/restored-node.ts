// The words for a node the dashboard knows only from the roster it kept before it restarted
// (Freshness.notHeardSinceStart): the server's summaries and the UI say the same thing.
import type { Freshness, NodeStatus } from "./api.js";

export const NOT_HEARD_SINCE_RESTART = "not heard from since the dashboard restarted";

/**
 * A restored node's summary: its status before the restart, said as such, never as now (its
 * rules are not known here, so no drift or sync is judged).
 */
export function restoredSummary(before: { status: NodeStatus; summary: string }): string {
  const detail = before.summary ? `, ${before.summary}` : "";
  return `${NOT_HEARD_SINCE_RESTART} (before it: ${before.status}${detail})`;
}

/** The line a restored node's row and page carry; null for any other node. */
export function restoredNote(f: Pick<Freshness, "notHeardSinceStart">): string | null {
  if (f.notHeardSinceStart === undefined) return null;
  return "Not heard from since the dashboard restarted: its reporter has not reconnected, so its last seen time, applied revision and last status are from before the restart.";
}
