// What "applied" means for a node in a rollout, computed once for the fleet bar's counts
// (rollout.ts), a staged rollout's waves (staged-state.ts outcomeOf), and nodes other replicas
// hold (rollout-remote.ts, replicas/fleet-view.ts): a node is done when it runs the revision AND
// the rules it runs since are judged here. With snapshot digests the post-apply rules can be
// unknown for a round trip, or wait in the snapshot intake (break8); without the one-frame
// acknowledgement (apply-result-snapshot: reporters of the previous release) they come in a
// snapshot ~2 s after the apply-result. Until judged the node has "applied, waiting for its
// rules" — a drift in them may still show.
import { remoteRulesJudged } from "@masq/shared";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import type { NodeRecord } from "./node.js";

/**
 * `done`: runs the revision, its rules judged; `awaiting-rules`: runs it, its rules not judged
 * yet; `not-applied`: does not run it (yet).
 */
export type AppliedState = "done" | "awaiting-rules" | "not-applied";

/** The fields of a node record that say whether its rules are judged. */
type Judged = Pick<NodeRecord, "rulesUnknown" | "rulesWaiting" | "rulesAfterApply">;

/**
 * Are the rules this node runs judged here? Not while they went by a digest not held here
 * (`rulesUnknown`), a newer snapshot waits its turn (`rulesWaiting`, snapshot-intake.ts), or
 * the snapshot read after its last apply has not come (`rulesAfterApply`).
 */
export function rulesJudged(n: Judged): boolean {
  return n.rulesUnknown === undefined && n.rulesWaiting !== true && n.rulesAfterApply !== true;
}

/** Where a node held here stands with `revision` (undefined: not known here). */
export function appliedState(
  n: (Judged & Pick<NodeRecord, "appliedRevision">) | undefined,
  revision: number,
): AppliedState {
  if (n?.appliedRevision !== revision) return "not-applied";
  return rulesJudged(n) ? "done" : "awaiting-rules";
}

/**
 * Where a node another replica holds stands with `revision`, by its NodeMasquerade: runs it
 * with its rules judged unless its holder still says `applying` (the post-apply read not judged
 * yet: connected, or disconnected before it was, node-masquerade.ts healthOf) or, connected to
 * it, `unknown` (rules by a digest it does not hold). An offline node keeps its holder's last
 * judgement (`offline`: judged before it went).
 */
export function remoteAppliedState(
  st: Pick<NodeMasqueradeStatus, "appliedRevision" | "connected" | "health">,
  revision: number,
): AppliedState {
  if ((st.appliedRevision ?? null) !== revision) return "not-applied";
  return remoteRulesJudged(st) ? "done" : "awaiting-rules";
}
