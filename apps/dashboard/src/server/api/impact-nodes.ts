// The nodes a change's impact (save review, rollback, compare) is judged on. It needs each
// node's agent flags and OS, which only the replica holding the node has: with every replica
// active, the nodes other replicas hold are counted apart as not judged, never left out
// silently (a save review on one of three replicas said "applied to 2 nodes" of 6).
import type { Impact } from "@masq/shared";
import type { ImpactNode } from "../config/impact.js";
import type { NodeRecord } from "../fleet/node.js";
import { fleetNodes } from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";

/**
 * `from`: the revision the change starts from when it is what nodes run (save review,
 * rollback): a node whose rules are not that revision's now (not in sync, or held on another
 * revision by a staged rollout) is marked, so the impact does not claim the configs'
 * difference for it. Omitted for a comparison of two revisions.
 */
export function impactNodes(
  ctx: Pick<ApiContext, "fleet" | "replicas">,
  from?: number,
): {
  judged: ImpactNode[];
  notJudged: Impact["notJudged"];
} {
  const local = (n: NodeRecord): ImpactNode => {
    const judged: ImpactNode = { os: n.hello.os, flags: n.hello.flags };
    if (from === undefined) return judged;
    const why = notAsConfigured(n, ctx.fleet.desiredOf(n.name)?.revision, from);
    return why ? { ...judged, notAsConfigured: why } : judged;
  };
  const view = ctx.replicas?.sources();
  if (!view) return { judged: [...ctx.fleet.nodes.values()].map(local), notJudged: undefined };
  const judged: ImpactNode[] = [];
  let elsewhere = 0;
  for (const n of fleetNodes(view)) {
    if ("hello" in n) judged.push(local(n));
    else elsewhere++;
  }
  return {
    judged,
    notJudged:
      elsewhere === 0
        ? undefined
        : {
            nodes: elsewhere,
            reason: "held by other dashboard replicas, which have their agent flags and rules",
          },
  };
}

/** Why a node's rules are not revision `from`'s now ("drifted", "on revision 3"), if they are not. */
function notAsConfigured(
  n: NodeRecord,
  desired: number | undefined,
  from: number,
): string | undefined {
  if (n.status !== "in-sync") return n.status;
  if (desired !== from)
    return desired === undefined ? "without a desired config" : `on revision ${desired}`;
  return undefined;
}
