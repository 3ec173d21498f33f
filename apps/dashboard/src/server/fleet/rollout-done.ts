// What "applied" means for a node in a rollout, computed once for the fleet bar's counts
// (rollout.ts), a staged rollout's waves (staged-state.ts outcomeOf), and nodes other replicas
// hold (rollout-remote.ts, replicas/fleet-view.ts): a node is done when it runs the revision AND
// the rules it runs since are judged here. With snapshot digests the post-apply rules can be
// unknown for a round trip, or wait in the snapshot intake (break8); without the one-frame
// acknowledgement (apply-result-snapshot: reporters of the previous release) they come in a
// snapshot ~2 s after the apply-result. Until judged the node has "applied, waiting for its
// rules" — a drift in them may still show.
import {
  type RolloutFacts,
  type RolloutOutcome,
  remoteRulesJudged,
  rolloutOutcome,
} from "@masq/shared";
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

/** The fields of a node record its rollout outcome is read from. */
export type LocalFacts = Judged &
  Pick<NodeRecord, "appliedRevision" | "connected" | "pending" | "lastApply" | "restored">;

/**
 * What is known of a node held here, as its NodeMasquerade records it for the other replicas
 * (node-masquerade.ts statusBody): its rules are not judged while an apply or resync sent to it
 * is unanswered (its status is `applying` then: a read can show the revision before the
 * reporter's result does, rollout-agree.test.ts); `error` is its last apply's failure, of the
 * revision that apply was of. A node known only from before this dashboard started (restored)
 * runs what it applied then by its word then: not known now, so it applies nothing here.
 */
export function localFacts(n: LocalFacts): RolloutFacts {
  const failed = n.lastApply !== null && !n.lastApply.ok;
  return {
    appliedRevision: n.restored ? null : n.appliedRevision,
    desiredRevision: failed ? n.lastApply!.revision : null,
    health: failed ? "error" : "ok",
    connected: n.connected,
    rulesJudged: rulesJudged(n) && n.pending === null,
  };
}

/** Where a node held here stands in the rollout of `revision` (the one definition, @masq/shared). */
export function localOutcome(n: LocalFacts, revision: number): RolloutOutcome {
  return rolloutOutcome(localFacts(n), revision);
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
