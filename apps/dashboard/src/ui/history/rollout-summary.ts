// A revision's staged rollout in History, in one line: its end state and how many moves it took.
import type { Revision } from "@masq/shared";
import { plural } from "../components/plural";

type RevisionRollout = NonNullable<Revision["rollout"]>;

/** A rollout's end state in History: a superseded one never finished, whatever its phase. */
export function rolloutState(r: RevisionRollout): string {
  if (r.aborted) return "aborted";
  return r.supersededBy === undefined ? r.phase : `superseded by revision ${r.supersededBy}`;
}

/** "Rollout: paused (1 action)": the summary of the rollout's list of actions. */
export function rolloutActionsSummary(r: RevisionRollout): string {
  return `Rollout: ${rolloutState(r)} (${plural(r.actions.length, "action")})`;
}
