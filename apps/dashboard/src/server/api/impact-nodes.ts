// The nodes a change's impact (save review, rollback, compare) is judged on. It needs each
// node's agent flags and OS, which only the replica holding the node has: with every replica
// active, the nodes other replicas hold are counted apart as not judged, never left out
// silently (a save review on one of three replicas said "applied to 2 nodes" of 6).
import type { Impact } from "@masq/shared";
import type { ImpactNode } from "../config/impact.js";
import { fleetNodes } from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";

export function impactNodes(ctx: Pick<ApiContext, "fleet" | "replicas">): {
  judged: ImpactNode[];
  notJudged: Impact["notJudged"];
} {
  const view = ctx.replicas?.sources();
  if (!view) {
    const judged = [...ctx.fleet.nodes.values()].map((n) => ({
      os: n.hello.os,
      flags: n.hello.flags,
    }));
    return { judged, notJudged: undefined };
  }
  const judged: ImpactNode[] = [];
  let elsewhere = 0;
  for (const n of fleetNodes(view)) {
    if ("hello" in n) judged.push({ os: n.hello.os, flags: n.hello.flags });
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
