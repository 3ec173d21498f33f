// A node's fleet-table row as the API sends it: the record's summary plus what the server
// decides about it from outside the record (its staged-rollout place, whether the dashboard can
// resync it), and the counts behind "Resync all drifted". The UI renders these, never guesses.
import type { DriftedResync, NodeRolloutPlace, NodeSummary } from "@masq/shared";
import { type NodeRecord, resyncCannotHealOf, toSummary } from "../fleet/node.js";
import type { StagedRollouts } from "../fleet/staged-rollout.js";
import type { RemoteSummary } from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";

export type SummaryContext = Pick<ApiContext, "observeResync"> & {
  staged: Pick<StagedRollouts, "placeOf">;
};

/** Why an observe-mode node cannot be resynced here (node-routes' resyncOne refuses it too). */
export const OBSERVE_RESYNC_OFF =
  "observe mode: the upstream ip-masq-agent owns its rules, and the dashboard may not recreate its pod (IPMASQ_OBSERVE_RESYNC is off)";

/** A node held here, or one another replica holds as its NodeMasquerade says (replicas). */
type AnyNode = NodeRecord | RemoteSummary;

const modeOf = (n: AnyNode) => ("hello" in n ? n.hello.mode : n.mode);

/**
 * Why the dashboard cannot resync `n` now; null when it can (a node held by another replica is
 * resynced through that replica, which has the same settings).
 */
export function resyncUnavailable(n: AnyNode, canRestartUpstream: boolean): string | null {
  if (!n.connected) return "the node is offline";
  if (modeOf(n) === "observe" && !canRestartUpstream) return OBSERVE_RESYNC_OFF;
  return null;
}

/**
 * Why a resync would leave drifted `n` drifted (every difference is one it does not rewrite), as
 * its row says it: a node held elsewhere as its holder wrote it (absent: not known, resynced).
 */
export const cannotHealOf = (n: AnyNode): string | undefined =>
  "hello" in n ? resyncCannotHealOf(n) : n.resyncCannotHeal;

/**
 * `place` with `inSyncNow` when the rollout counts the node failed but it runs the revision in
 * sync now (a resync healed its drift): the failure stays the rollout's until a retry, and the
 * row says both rather than a failure the node no longer shows.
 */
export function placeNow(
  place: NodeRolloutPlace | null,
  n: Pick<NodeSummary, "status" | "appliedRevision">,
): NodeRolloutPlace | null {
  if (place?.progress !== "failed" || n.status !== "in-sync") return place;
  return n.appliedRevision === place.desiredRevision ? { ...place, inSyncNow: true } : place;
}

/** The row of `n`: fields absent when there is nothing to say (no rollout, resync possible). */
export function nodeSummary(n: NodeRecord, ctx: SummaryContext): NodeSummary {
  const out = toSummary(n);
  const place = placeNow(ctx.staged.placeOf(n.name), n);
  if (place) out.rollout = place;
  const why = resyncUnavailable(n, ctx.observeResync !== null);
  if (why) out.resyncUnavailable = why;
  return out;
}

/**
 * The row of any node: one held here (nodeSummary), or one another replica holds, as its
 * NodeMasquerade says, with whether it can be resynced (through its holder).
 */
export function rowOf(n: AnyNode, ctx: SummaryContext): NodeSummary {
  if ("hello" in n) return nodeSummary(n, ctx);
  const why = resyncUnavailable(n, ctx.observeResync !== null);
  // Its place in a staged rollout: the rollout is fleet-wide, its holder's apply is read back.
  const place = placeNow(ctx.staged.placeOf(n.name), n);
  const row = place ? { ...n, rollout: place } : n;
  return why ? { ...row, resyncUnavailable: why } : row;
}

/**
 * What POST /api/resync {status: "drifted"} would do now: connected drifted nodes it resyncs,
 * the ones it must skip, by reason, and those it leaves alone because a resync would not change
 * what differs (only other components' rules, or the other backend's), by reason. Offline nodes
 * are never drifted (their status is offline), as the route skips them without a word.
 */
export function driftedResync(
  nodes: Iterable<AnyNode>,
  canRestartUpstream: boolean,
): DriftedResync {
  let resyncable = 0;
  const skipped = new Map<string, number>();
  const cannotHeal = new Map<string, number>();
  const add = (m: Map<string, number>, reason: string) => m.set(reason, (m.get(reason) ?? 0) + 1);
  for (const n of nodes) {
    if (n.status !== "drifted" || !n.connected) continue;
    const why = resyncUnavailable(n, canRestartUpstream);
    const stays = why === null ? cannotHealOf(n) : undefined;
    if (why !== null) add(skipped, why);
    else if (stays !== undefined) add(cannotHeal, stays);
    else resyncable++;
  }
  const byCount = (m: Map<string, number>) =>
    [...m].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
  return { resyncable, skipped: byCount(skipped), cannotHeal: byCount(cannotHeal) };
}
