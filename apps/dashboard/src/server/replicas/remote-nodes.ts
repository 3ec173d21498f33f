// The nodes other dashboard replicas hold, for a staged rollout cut over every node (one owner:
// docs/scale-out.md step 2): each NodeMasquerade with a status whose node this replica does not
// hold. A node held by no live replica (offline since) is one too: it waits for its wave there.
import type { RemoteNodes } from "../fleet/staged-rollout.js";
import type { FleetViewSources } from "./fleet-view.js";
import type { NodeMasqueradeStatus } from "./node-masquerade.js";

/** Nodes known only by their NodeMasquerade (this replica has no record of them). */
export function* heldElsewhere(
  s: FleetViewSources,
): Generator<{ name: string; mode: "enforce" | "observe" }> {
  for (const cr of s.objects.values()) {
    const st = cr.status;
    if (!st || s.fleet.nodes.has(cr.metadata.name)) continue;
    yield { name: cr.metadata.name, mode: st.mode === "observe" ? "observe" : "enforce" };
  }
}

/**
 * The status of a node another replica holds (or none does, since it went offline there); none
 * for a node connected here, or last held here (this replica's record is the truth of it).
 */
export function statusElsewhere(
  s: FleetViewSources,
  name: string,
): NodeMasqueradeStatus | undefined {
  const local = s.fleet.nodes.get(name);
  if (local?.connected) return undefined;
  const st = s.objects.get(name)?.status;
  if (!st || (local && (st.replica === s.replica || st.replica === ""))) return undefined;
  return st;
}

/**
 * A replica's nodes held elsewhere, read when asked (none before it is attached). `listed`:
 * has the first list of NodeMasquerades been read (absent: taken as read)? `unreportedSince`:
 * the replicas whose reconnects are not known to be written (replica-leases.ts).
 * `fresh`: a node's NodeMasquerade read fresh (replica-sync.ts connectedElsewhere, existsFresh),
 * and whether a replica that stopped renewing still holds its nodes is not known (holderUnknown).
 */
export function remoteNodesOf(
  sources: () => FleetViewSources | undefined,
  listed?: () => boolean,
  unreportedSince?: (since: number) => string[],
  fresh?: Pick<RemoteNodes, "connectedFresh" | "existsFresh" | "holderUnknown">,
): RemoteNodes {
  return {
    ...fresh,
    listed: () => listed?.() ?? true,
    unreportedSince: (since) => unreportedSince?.(since) ?? [],
    *list() {
      const s = sources();
      if (s) yield* heldElsewhere(s);
    },
    status(name) {
      const s = sources();
      return s ? statusElsewhere(s, name) : undefined;
    },
  };
}
