// The rollout bar's words and colour. After an abort every node returns to the stable revision:
// that is a rollout of the old revision, which "Revision 3 rolled out" misread as a new change.
import type { Rollout } from "@masq/shared";

/**
 * The aborted revision when `rollout` is an abort's return to the stable one: the server says
 * `aborted` (its `abortedRevision`), nodes enforce `desired`, and this rollout is of `desired`.
 * Null otherwise.
 */
export function abortedBehind(
  rollout: Pick<Rollout, "revision">,
  aborted: number | null,
  desired: number | null,
): number | null {
  if (aborted === null || desired === null) return null;
  return rollout.revision === desired ? aborted : null;
}

/** The rollout's headline; `aborted`: the revision whose abort this rollout reverts (abortedBehind). */
export function rolloutLabel(rollout: Rollout, aborted: number | null): string {
  const total = Math.max(rollout.total, 0);
  const running = rollout.finishedAt === null;
  if (aborted !== null) {
    const what = `to revision ${rollout.revision} after revision ${aborted} was aborted`;
    return running
      ? `Reverting ${what}: ${rollout.done} of ${total} nodes applied`
      : `Reverted ${what}: ${rollout.done} of ${total} nodes`;
  }
  if (running)
    return `Rolling out revision ${rollout.revision}: ${rollout.done} of ${total} nodes applied`;
  return total === 0
    ? `Revision ${rollout.revision}: no enforce-mode node was known when it was saved`
    : `Revision ${rollout.revision} rolled out to ${rollout.done} of ${total} nodes`;
}

/** The applied nodes' share of the bar: green once finished (failures have their own red). */
export function doneBarClass(rollout: Pick<Rollout, "finishedAt">): string {
  return rollout.finishedAt === null ? "bg-indigo-500" : "bg-emerald-500";
}
