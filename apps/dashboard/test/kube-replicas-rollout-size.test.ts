// A staged rollout whose state could not be persisted or followed is refused before anything is
// saved (fleet/staged-size.ts): the rollout state lists every node of its waves, and the
// followers read it from the 1 MiB history ConfigMap. Before, a save over more nodes than that
// state may carry started waves the followers could not read: their nodes stayed on the
// previous revision ("not-yet: the rollout state is not readable"), said only in their logs.
// Here the nodes are known by NodeMasquerades of a replica that is gone (a fleet this test
// machine could not connect), with long names (DNS subdomains up to 253 characters) so that a
// few thousand take the bytes ~18,000 AWS-style names would.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaStarter } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const replica = replicaStarter(t);

const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const WAVES = { kind: "waves", canary: { count: 1 }, waves: [100], pause: { kind: "manual" } };
/** 207-character node names: three 63-character labels and a numbered one. */
const longName = (i: number) =>
  `${["a", "b", "c"].map((l) => l.repeat(63)).join(".")}.node-${String(i).padStart(5, "0")}-pool`;

function addHeldElsewhere(fake: FakeKubeApi, count: number): void {
  const observedAt = `${new Date().toISOString().slice(0, 19)}Z`;
  for (let i = 0; i < count; i++) {
    // Their Nodes exist: an object whose Node is gone is deleted by the singleton holder.
    fake.addNode(longName(i));
    fake.apply({
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: longName(i) },
      spec: {},
      status: {
        replica: "dash-gone",
        connected: false,
        health: "offline",
        mode: "enforce",
        observedAt,
      },
    });
  }
}

describe("a staged rollout over a fleet whose state would not fit", () => {
  it("is refused with 422 and the reason; GET /api/config says so before; all at once is saved", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    await t.reporter(a, "node-1");
    addHeldElsewhere(fake, 3_800);
    const cfg = await eventually(
      async () => {
        const c = (await a.api("/api/config")).body;
        return c.stagedRefusal ? c : undefined;
      },
      20_000,
      "the refusal said by GET /api/config",
    );
    expect(cfg.stagedRefusal).toMatch(
      /^the staged rollout's state over 3801 nodes would take \d{3,4} KiB, more than the 768 KiB the history ConfigMap can keep it in/,
    );
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: cfg.resourceVersion, strategy: WAVES },
    });
    expect(put.status).toBe(422);
    expect(put.body.error).toBe(
      `a staged rollout is refused: ${cfg.stagedRefusal}. Nothing was saved; roll out all at once`,
    );
    expect(put.body.stagedRefusal).toBe(cfg.stagedRefusal);
    expect((await a.api("/api/config")).body.resourceVersion).toBe(cfg.resourceVersion);
    const atOnce = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: cfg.resourceVersion, strategy: { kind: "all-at-once" } },
    });
    expect(atOnce.status).toBe(200);
    expect((await a.api("/api/rollout")).body.rollout).toBeNull();
  });
});
