// What the "Next automatic heal" card says a resync does: heals, heals only the agent's own
// rules, or (its last apply failed) only tries again.
import type { ApplyResult } from "@masq/shared";

export function resyncNote(last: Pick<ApplyResult, "ok"> | null, ownOnly: boolean): string {
  if (last && !last.ok)
    return "Its last apply failed (see History of this node): a resync, clicked or automatic, tries again, and heals only once that cause is gone.";
  return `Resync heals ${ownOnly ? "the agent's own rules" : "it"} now.`;
}
