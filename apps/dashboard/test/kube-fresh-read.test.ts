// Issue 17: before a staged rollout's owner calls a node that went offline after applying gone,
// it reads the node's NodeMasquerade fresh from the API server (a GET: its watch may lag), with
// the chart's RBAC, through the real @kubernetes/client-node (fleet/staged-offline.ts).
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaStarter } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const replica = replicaStarter(t);

describe("a node's NodeMasquerade read fresh by a replica", () => {
  it("names a connected holder: another live replica's node; not one held here, or none", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(b, "node-b");
    await eventually(
      () => nodeMasquerade(fake, "node-b")?.status?.connected === true || undefined,
      10_000,
      "dash-b wrote node-b connected",
    );
    await eventually(
      () => a.replicas.leases.liveness("dash-b").live || undefined,
      10_000,
      "dash-a sees dash-b's Lease",
    );
    expect(await a.replicas.connectedElsewhere("node-b")).toBe(true);
    // Held by the replica asking: its own record is the truth, not the object.
    expect(await b.replicas.connectedElsewhere("node-b")).toBe(false);
    // No object (404): connected nowhere.
    expect(await a.replicas.connectedElsewhere("node-x")).toBe(false);
    // Whether the object is there (a deleted one rewritten by its holder): read, not watched.
    expect(await a.replicas.existsFresh("node-b")).toBe(true);
    expect(await a.replicas.existsFresh("node-x")).toBe(false);
  });
});
