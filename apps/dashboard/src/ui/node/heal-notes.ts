// What the "Next automatic heal" card says a resync does: heals, heals only the agent's own
// rules, or (its last apply failed) only tries again.
import type { ApplyResult, NodeStatus } from "@masq/shared";

export function resyncNote(last: Pick<ApplyResult, "ok"> | null, ownOnly: boolean): string {
  if (last && !last.ok)
    return "Its last apply failed (see History of this node): a resync, clicked or automatic, tries again, and heals only once that cause is gone.";
  return `Resync heals ${ownOnly ? "the agent's own rules" : "it"} now.`;
}

/**
 * The card's words by the node's status: a drifted node (or one whose apply failed) has
 * something to heal, so the card says when that happens; an in-sync node has nothing to heal,
 * and its periodic resync only re-applies the same rules (no "automatic heal" is promised);
 * for other statuses (applying, not responding, offline) nothing current is known to heal.
 * `cannotHeal`: the drifted node's every difference is one a resync does not rewrite (the
 * server's NodeSummary.resyncCannotHeal): no heal is promised either.
 */
export function healWording(
  status: NodeStatus,
  cannotHeal = false,
): {
  heading: string;
  /** Before the time of the next resync: "At the next resync, in 55s." */
  lead: string;
  /** Said first when there is nothing to heal. */
  nothing: string | null;
} {
  if (status === "drifted" && cannotHeal)
    return {
      heading: "Next resync",
      lead: "Next resync",
      nothing: "Drifted, but not in anything a resync changes (see below).",
    };
  if (status === "drifted" || status === "error")
    return { heading: "Next automatic heal", lead: "At the next resync", nothing: null };
  return {
    heading: "Next resync",
    lead: "Next resync",
    nothing: status === "in-sync" ? "In sync: nothing to heal." : null,
  };
}
