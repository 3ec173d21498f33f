// Issue 17: a save on one replica is judged against every known node, those other replicas
// hold included (their NodeMasquerade), not only the nodes it holds: masqueradeCIDRs while a
// node held by another replica runs in observe mode is refused as it is for a node held here,
// and the impact (save review, compare) counts the nodes held elsewhere apart, as not judged.
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaStarter } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const replica = replicaStarter(t);

describe("a save judged against the whole fleet", () => {
  it("masqueradeCIDRs with an observe-mode node held by another replica: 422 naming it, nothing saved", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    await t.reporter(b, "node-2", { mode: "observe" });
    await eventually(
      () => nodeMasquerade(fake, "node-2")?.status?.mode === "observe",
      10_000,
      "node-2's NodeMasquerade",
    );
    await eventually(
      async () => (await a.api("/api/nodes/node-2")).body.node?.heldBy?.replica === "dash-b",
      10_000,
      "dash-a sees node-2",
    );
    const before = (await a.api("/api/config")).body;
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8]\nmasqueradeCIDRs: [10.1.0.0/16]\n";
    const dry = (await a.api("/api/config/validate", { body: { yaml } })).body;
    expect(dry.errors.map((e: { code: string }) => e.code)).toContain("observe-mode");
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: before.resourceVersion, strategy: { kind: "all-at-once" } },
    });
    expect(put.status).toBe(422);
    expect(put.body.error).toMatch(
      /^masqueradeCIDRs cannot be saved while a node is in observe mode \(node-2\): /,
    );
    expect((await a.api("/api/config")).body.resourceVersion).toBe(before.resourceVersion);
  });

  it("the impact counts the nodes other replicas hold apart: not judged here, never left out", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    await t.reporter(b, "node-2");
    await t.reporter(b, "node-3");
    await eventually(
      async () => (await a.api("/api/nodes")).body.summary.total === 3,
      10_000,
      "dash-a sees 3 nodes",
    );
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
    const dry = (await a.api("/api/config/validate", { body: { yaml } })).body;
    expect(dry.impact.nodes).toBe(1);
    expect(dry.impact.notJudged).toEqual({
      nodes: 2,
      reason: "held by other dashboard replicas, which have their agent flags and rules",
    });
    const before = (await a.api("/api/config")).body;
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: before.resourceVersion, strategy: { kind: "all-at-once" } },
    });
    expect(put.status).toBe(200);
    const q = `from=${before.resourceVersion}&to=${put.body.resourceVersion}`;
    // dash-b has the revision once its watch brought it (the save was answered by dash-a).
    const cmp = await eventually(
      async () => {
        const c = (await b.api(`/api/history/compare?${q}`)).body;
        return c.impact ? c : undefined;
      },
      10_000,
      "dash-b compares the revision saved on dash-a",
    );
    expect(cmp.impact.notJudged?.nodes).toBe(1);
  });
});
