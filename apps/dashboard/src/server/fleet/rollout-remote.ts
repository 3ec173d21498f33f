// Where a node another dashboard replica holds stands in a staged rollout, read from its
// NodeMasquerade status (docs/scale-out.md step 5): the owner counts and pauses on these as on
// the nodes it holds (staged-rollout.ts: applied, failed to apply, drifted, offline soon after
// applying), and every replica's rollout view and rows show them.

import { type NumberedConfig, recordedOutcome } from "@masq/shared";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";

export type RemoteOutcome =
  | { outcome: "applied" | "pending" }
  /** `failed`: the node's reason for the rollout's list; `pause`: the sentence pausing it. */
  | { outcome: "failed"; failed: string; pause: string };

/**
 * The outcome of a released node held by another replica for the rollout of `revision`:
 * applied when its holder says it runs the revision (failed if it drifted from it since);
 * failed when its holder sent it the revision and its apply failed (health `error`); pending
 * otherwise, offline or not (it is waited for, never counted as applied unseen). `known`: this
 * replica's revisions with their configs, to read the holder's numbers in (merged revisions are
 * numbered by each replica: shared inReaderNumbering).
 */
export function remoteOutcome(
  name: string,
  st: NodeMasqueradeStatus,
  revision: number,
  known?: readonly NumberedConfig[],
): RemoteOutcome {
  const by = `held by replica ${st.replica || "(none)"}`;
  const message = st.message || "no reason given";
  // A member cut in enforce mode now observing applies nothing (the owner drops it, as every
  // replica's bar does): never counted applied.
  if (st.mode === "observe") return { outcome: "pending" };
  // The one definition the fleet bar counts by too (@masq/shared). Applied with its rules not
  // judged yet (a digest its holder did not hold, a late post-apply read) is pending: a drift
  // in them must still pause (break8). A drift once judged fails the rollout here.
  const o = recordedOutcome(st, revision, st.connected, known);
  if (o === "done" && st.health === "drifted")
    return {
      outcome: "failed",
      failed: `drifted: ${message} (${by})`,
      pause: `${name} drifted from revision ${revision}: ${message} (${by})`,
    };
  if (o === "done") return { outcome: "applied" };
  if (o === "failed")
    return {
      outcome: "failed",
      failed: `${message} (${by})`,
      pause: `${name} failed to apply: ${message} (${by})`,
    };
  return { outcome: "pending" };
}

/** When its reporter disconnected (the Connected condition's transition), ms; undefined: not. */
export function offlineSince(st: NodeMasqueradeStatus): number | undefined {
  const at = Date.parse(offlineTransition(st) ?? "");
  return Number.isNaN(at) ? undefined : at;
}

/** Its Connected=False condition's transition as written (names one offline); undefined: none. */
export function offlineTransition(st: NodeMasqueradeStatus): string | undefined {
  if (st.connected) return undefined;
  return st.conditions?.find((x) => x.type === "Connected" && x.status === "False")
    ?.lastTransitionTime;
}
