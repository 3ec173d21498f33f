// Hostile or racing writes against every replica active (issue 17): NodeMasquerades and Leases
// written by someone else, replicas restarted, shut down or gone.
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaStarter } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();

const replica = replicaStarter(t, {
  leaseKeep: { releasedMs: 500, unrenewedMs: 3000 },
  orphanGraceMs: 1000,
});
const nm = nodeMasquerade;

describe("NodeMasquerade status overwritten while the holder keeps the node", () => {
  it("a status naming another (or no such) replica is rewritten by the replica holding the node", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "node-1 CR");
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "in-sync",
      10_000,
      "in sync on dash-b",
    );
    // What a lagging watch leaves behind when a reporter hops A→B→A quickly (B's offline write
    // lands after A's connected one, which A then never repeats), or `kubectl edit --subresource
    // status`: the object names a replica that does not hold the node.
    fake.apply({
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: "node-1" },
      spec: {},
      status: {
        replica: "dash-ghost",
        connected: false,
        health: "offline",
        observedAt: `${new Date().toISOString().slice(0, 19)}Z`,
      },
    });
    // dash-a holds the connection: the object must come back to the truth.
    await eventually(
      () => nm(fake, "node-1")?.status?.replica === "dash-a",
      5_000,
      "dash-a rewrites the status of the node it holds",
    );
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "in-sync",
      5_000,
      "dash-b shows the node in sync again",
    );
  });

  it("the Leases of replicas that are gone are deleted (pod names change every rollout), a live one's kept", async () => {
    const fake = await t.cluster();
    const _a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    const c = await replica(fake, "dash-c");
    const lease = (pod: string) =>
      fake.lease("kube-system", `ipmasq-ipmasq-dashboard-replica-${pod}`);
    for (const pod of ["dash-a", "dash-b", "dash-c"])
      await eventually(() => lease(pod) !== undefined, 10_000, `${pod}'s Lease`);
    // b shuts down (releases its Lease), c crashes (stops renewing); a stays.
    await b.replicas.close();
    await c.replicas.leases.halt();
    await eventually(
      () => lease("dash-b") === undefined && lease("dash-c") === undefined,
      15_000,
      "the gone replicas' Leases deleted by whichever replica holds the singleton Lease",
    );
    expect(lease("dash-a")).toBeDefined();
  });

  it("a replica that shuts down releases its Lease: the others stop vouching for its nodes at once", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    const lease = (pod: string) =>
      fake.lease("kube-system", `ipmasq-ipmasq-dashboard-replica-${pod}`);
    await eventually(() => lease("dash-a") !== undefined, 10_000, "dash-a's Lease");
    await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.connected === true, 10_000, "node-1 CR");
    await t.stop(a);
    // Released with the pod (client-go's ReleaseOnCancel): holderIdentity emptied, and not
    // renewed again by a renewal that was in flight.
    expect(lease("dash-a")?.spec?.holderIdentity ?? "").toBe("");
    await new Promise((r) => setTimeout(r, 500));
    expect(lease("dash-a")?.spec?.holderIdentity ?? "").toBe("");
    expect(lease("dash-b")?.spec?.holderIdentity).toBe("dash-b");
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status !== "in-sync",
      500,
      "dash-b no longer vouches for node-1 (well before the 1 s lease duration)",
    );
  });

  it("a replica restarted under the same pod name stops vouching for the nodes its previous process held", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    const r = await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "node-1 CR");
    // The container restarts (OOM, liveness probe): same pod name, new process, and node-1's
    // reporter does not come back (its node went down with it, or cannot reach the Service).
    await t.stop(a);
    await r.close();
    expect(nm(fake, "node-1")?.status).toMatchObject({ replica: "dash-a", connected: true });
    await replica(fake, "dash-a");
    // dash-a renews its Lease again: on dash-b the object's "dash-a, connected, in-sync" must not
    // be taken for the truth — the new dash-a holds no connection for node-1.
    await eventually(
      () => nm(fake, "node-1")?.status?.connected === false,
      10_000,
      "the restarted dash-a writes node-1 disconnected",
    );
    // Not "offline": the node may have reconnected to another replica whose write is late.
    expect(nm(fake, "node-1")?.status).toMatchObject({ health: "unknown" });
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "unknown",
      5_000,
      "dash-b shows node-1 unknown",
    );
  });

  it("a status naming a replica that has no Lease is not vouched for, even just after start", async () => {
    const fake = await t.cluster();
    fake.apply({
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: "node-9" },
      spec: {},
      status: {
        replica: "dash-ghost",
        connected: true,
        health: "in-sync",
        observedAt: `${new Date().toISOString().slice(0, 19)}Z`,
      },
    });
    const b = await replica(fake, "dash-b");
    // Once dash-b has listed the Leases it knows dash-ghost has none: node-9 is not in sync.
    await eventually(() => b.replicas.objects.get("node-9") !== undefined, 5_000, "object seen");
    await eventually(
      async () => (await b.api("/api/nodes/node-9")).body.node?.status === "unknown",
      400,
      "node-9 unknown on dash-b well before the 1 s lease duration",
    );
    expect((await b.api("/api/nodes/node-9")).body.node.summary).toMatch(
      /^replica dash-ghost has no Lease; last known: in-sync/,
    );
  });
});

describe("break4: a status edited by hand while its holder keeps the node", () => {
  it("a hand edit of health, drift and details (replica unchanged) is rewritten by the holder", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    const r = await t.reporter(a, "node-1");
    r.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(() => nm(fake, "node-1")?.status?.health === "drifted", 10_000, "drifted");
    const truth = nm(fake, "node-1").status;
    // `kubectl edit --subresource status`: the drifted node made to look healthy, still
    // naming its holder, the details' observedAt kept so they are believed.
    fake.apply({
      ...nm(fake, "node-1"),
      status: {
        ...truth,
        health: "in-sync",
        message: "",
        drift: { count: 0, reasons: [] },
        details: { ...truth.details, critical: 0, warnings: 0, kernel: "x".repeat(256) },
      },
    });
    // The holder keeps sending its snapshots (unchanged): it must put the truth back.
    for (let i = 0; i < 10; i++) {
      r.snapshot();
      await new Promise((res) => setTimeout(res, 300));
    }
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "drifted",
      3_000,
      "dash-b shows the node drifted again",
    );
    // The truth put back. Its observedAt is that of the holder's latest write, which a loaded
    // machine may make a second after the one read above (a later snapshot of the same rules).
    const { observedAt, ...back } = nm(fake, "node-1").status.details;
    const { observedAt: truthAt, ...want } = truth.details;
    expect(back).toEqual(want);
    expect(Date.parse(observedAt)).toBeGreaterThanOrEqual(Date.parse(truthAt));
  });
});
