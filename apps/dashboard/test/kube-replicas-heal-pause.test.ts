// Issue 17, every replica active: a drift healed on a released node (an apply changed back rules
// the dashboard never saw drifted) held by a replica that does not own the staged rollout pauses
// it, as one on the owner's own node does, the pause naming the node and its holder. The holder
// writes the heal in the node's NodeMasquerade status (`healedDrift`), the owner reads it there,
// and the holder drops it once the owner's state counts the node failed. Before, only the owner
// paused on a heal: on another replica the rollout went on, its NodeMasquerade saying only that
// the node was in sync again.
import { PROTOCOL_VERSION } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaStarter } from "./helpers/replicas.js";
import { canaryApplied, ownerOf, rollout, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const replica = replicaStarter(t);
const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";

describe("a drift healed on a node another replica holds, in a staged rollout", () => {
  it("pauses the rollout on the owner, naming the node and the replica holding it", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    expect(await eventually(() => ownerOf(fake), 10_000, "a singleton Lease holder")).toBe(
      "dash-a",
    );
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    const canary = await t.reporter(b, "node-2");
    const strategy = waves({ selector: { "kubernetes.io/hostname": "node-2" } });
    const next = await canaryApplied(a, 2, NEXT, strategy);

    // node-2's reporter changed back a hand edit the dashboard never saw (its resync timer).
    canary.send({
      type: "apply-result",
      v: PROTOCOL_VERSION,
      revision: next,
      ok: true,
      durationMs: 1,
      trigger: "resync",
      changed: true,
    });
    const paused = new RegExp(
      `^paused: node-2: its rules had drifted from revision ${next} without the dashboard seeing it drifted; .* \\(held by replica dash-b\\)`,
    );
    for (const s of [a, b])
      await eventually(
        async () => paused.test((await rollout(s))?.message ?? "") || undefined,
        10_000,
        "the rollout paused on node-2's heal",
      );
    const view = (await rollout(a))!;
    expect(view.waves[0]!.failedNodes).toEqual([
      { name: "node-2", reason: expect.stringMatching(/\(held by replica dash-b\)$/) },
    ]);
    // Taken: the holder no longer writes it.
    await eventually(
      () => (nodeMasquerade(fake, "node-2")?.status?.healedDrift ? undefined : true),
      10_000,
      "the heal dropped from node-2's NodeMasquerade",
    );
    // A retry clears it and it does not pause again on the same heal.
    const retry = await a.api("/api/rollout/retry", { method: "POST", body: {} });
    expect(retry.status).toBe(200);
    await eventually(
      async () =>
        (await rollout(a))?.message === "the canary applied; paused until promoted" || undefined,
      10_000,
      "the canary applied again after the retry",
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect((await rollout(a))?.message).toBe("the canary applied; paused until promoted");
  });
});
