// The nodes other dashboard replicas hold, for a staged rollout cut over every node (one owner:
// docs/scale-out.md step 2): each NodeMasquerade with a status whose node this replica does not
// hold. A node held by no live replica (offline since) is one too: it waits for its wave there.
import type { RemoteNodes } from "../fleet/staged-rollout.js";
import type { FleetViewSources } from "./fleet-view.js";

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

/** `heldElsewhere` of a replica's sources, read when asked (none before it is attached). */
export function remoteNodesOf(sources: () => FleetViewSources | undefined): RemoteNodes {
  return {
    *list() {
      const s = sources();
      if (s) yield* heldElsewhere(s);
    },
  };
}
