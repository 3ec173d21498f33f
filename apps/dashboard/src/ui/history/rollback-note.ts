// What the rollback dialog says when rolling back would change nothing on the nodes: the
// server's comparison (GET /api/history/{rv}/rollback-impact) finds the target's config the
// same as the one nodes run (History's Compare says "Same config").
import type { RollbackImpactResponse } from "@masq/shared";

/** The sentence when nothing would change on the nodes; null when something would (or not known). */
export function unchangedRollbackNote(c: RollbackImpactResponse): string | null {
  if (!c.known || c.keys.some((k) => k.changed)) return null;
  const what = c.merged
    ? `revision ${c.to.revision}'s config, merged with the other config sources as they are now, is`
    : `revision ${c.to.revision}'s config is`;
  return `Nothing would change on the nodes: ${what} the one nodes run now (revision ${c.from.revision}). Rolling back would only save a new revision with the same config.`;
}
