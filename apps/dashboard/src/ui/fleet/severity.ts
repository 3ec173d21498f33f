// Whether a row's severity counts are facts or placeholders.
import type { NodeSummary } from "@masq/shared";

/**
 * Why the row's critical/warnings are not known (null: they are): a node another replica holds
 * whose status records no severity (only when it has differences: none means none), or a node
 * here whose judgement waits for the rules it applies now (no count of differences either).
 */
export function severityNotKnown(
  node: Pick<NodeSummary, "notKnownHere" | "heldBy">,
): string | null {
  const nk = node.notKnownHere;
  if (!nk?.fields.includes("severity")) return null;
  const differences = node.heldBy ? node.heldBy.differences : undefined;
  return differences === 0 ? null : nk.reason;
}
