// What the save review (and the rollback dialog) says about how the new revision will roll out,
// beyond the strategy picked: an unfinished rollout it supersedes, and a canary that is the
// whole fleet. Pure: the view of the running rollout and the node count come in.
import type { RolloutStrategy, StagedRolloutView } from "@masq/shared";
import { phaseBadge } from "./rollout-phase";

/**
 * What saving does to a staged rollout that has not finished (Argo Rollouts' "superseded"):
 * with waves the new revision rolls out from the stable revision, so nodes that applied the
 * superseded one go back to it until their wave is released; all at once, every node gets the
 * new one. Null when no rollout is unfinished (none, healthy, or aborted).
 */
export function supersedeNote(
  running: StagedRolloutView | null | undefined,
  strategy: RolloutStrategy | null,
): string | null {
  if (!running || running.aborted || running.phase === "healthy" || running.phase === "degraded")
    return null;
  const badge = phaseBadge(running);
  const state =
    badge === "waiting"
      ? "waiting between waves"
      : badge === "paused"
        ? "paused"
        : "still rolling out";
  const head = `The rollout of revision ${running.revision} is ${state}: saving supersedes it.`;
  const stable = running.previousRevision;
  if (strategy?.kind === "waves")
    return `${head} The new revision rolls out in waves from revision ${stable}: nodes that applied revision ${running.revision} go back to revision ${stable} until their wave of the new one is released.`;
  if (strategy?.kind === "all-at-once")
    return `${head} Every node gets the new revision at once, also those still on revision ${stable}.`;
  return head;
}

/**
 * Said when the canary covers every enforce-mode node (`enforceNodes`, as known now): there is
 * no wave after it, so the change reaches every node at once and the rollout is healthy once
 * they applied it. Null otherwise, and for a label selector (the nodes' labels are not known
 * here).
 */
export function wholeFleetCanaryNote(
  strategy: RolloutStrategy | null,
  enforceNodes: number,
): string | null {
  if (strategy?.kind !== "waves" || enforceNodes === 0) return null;
  const c = strategy.canary;
  if ("selector" in c) return null;
  // As assignWaves cuts it: `count` nodes, or `percent`% rounded up (at least one).
  const size = "count" in c ? c.count : Math.max(1, Math.ceil((c.percent * enforceNodes) / 100));
  if (size < enforceNodes) return null;
  const n =
    enforceNodes === 1 ? "the only enforce-mode node" : `all ${enforceNodes} enforce-mode nodes`;
  return `The canary is ${n}: the change reaches every node at once, with no wave after it; the rollout is healthy once they applied it.`;
}
