// What one node's Resync button says (its title), in the fleet table's row and on the node's
// page: who may, whether it can, and whether a resync would change what differs (the server's
// NodeSummary.resyncCannotHeal: a drifted node whose drift is only rules a resync never rewrites).
import type { NodeSummary } from "@masq/shared";

/** `subject`: how the node is named ("node-a", "this node"). */
export function resyncTitle(
  node: Pick<NodeSummary, "resyncUnavailable" | "resyncCannotHeal">,
  o: { canEdit: boolean; offline: boolean; subject: string },
): string {
  if (!o.canEdit) return "Only editors can resync";
  if (o.offline) return "The node is offline";
  if (node.resyncUnavailable) return `Cannot resync: ${node.resyncUnavailable}`;
  if (node.resyncCannotHeal)
    return `Re-apply the agent's rules on ${o.subject}; it stays drifted: ${node.resyncCannotHeal}`;
  return `Re-apply the desired rules on ${o.subject}`;
}
