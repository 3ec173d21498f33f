// Which rollout the config page shows after a save: one under way, or the one of what was saved
// here. With several config sources the rollout's revision is the dashboard's merge number,
// never the stored revision a save answers, so it is matched by the stored resourceVersion it
// was made from (its primary), not by number.
import { primaryOf, type Rollout } from "@masq/shared";

/** Whether to show `rollout`; `saved`: the resourceVersion the last save here answered. */
export function showsRollout(
  rollout: Pick<Rollout, "finishedAt" | "resourceVersion"> | null,
  saved: string | null,
): boolean {
  if (!rollout) return false;
  return rollout.finishedAt === null || primaryOf(rollout.resourceVersion) === saved;
}
