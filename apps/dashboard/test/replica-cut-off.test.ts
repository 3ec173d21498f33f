// Issue 17: a replica alive but cut off from the API server (every request of its fails) keeps
// its reporters and cannot renew its Lease nor write their NodeMasquerades. The staged
// rollout's owner marks its nodes disconnected by the Lease alone; before, ~30 s later it paused
// the rollout saying the canary it held "went offline … and no replica held it", while the canary
// was connected all along. Now that is not known: no wave goes on, and the view says whose state
// is not known. Two replicas in process against the test API server, through the real client.
import { assignWaves, type WavesStrategy } from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { nodeMasqueradeApi } from "../src/server/replicas/node-masquerade-api.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaSync } from "./helpers/replicas.js";
import { canaryApplied, desired, ownerOf, rollout, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const CUT_OFF = new Error("connect ECONNREFUSED (this replica is cut off from the API server)");

/** dash-b's clients, every Lease write and status write failing once `cut.off`. */
function cutOffReplica(fake: FakeKubeApi, cut: { off: boolean }) {
  const clients = kubeClients(fake.kubeConfig());
  const lease = clients.coordination;
  const coordination = new Proxy(lease, {
    get(target, key) {
      const v = Reflect.get(target, key, target);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) =>
        cut.off ? Promise.reject(CUT_OFF) : (v as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  const api = nodeMasqueradeApi(clients.kc);
  const fail =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...a: A) =>
      cut.off ? Promise.reject(CUT_OFF) : fn(...a);
  return replicaSync(fake, "dash-b", {
    clients: { ...clients, coordination },
    api: {
      ...api,
      patchStatus: fail(api.patchStatus),
      create: fail(api.create),
      patchResyncRequest: fail(api.patchResyncRequest),
    },
  });
}

describe("the holder of the canary is alive but cut off from the API server", () => {
  it("the owner does not call the canary gone: not known, no wave released", async () => {
    const fake = await t.cluster();
    const a = await t.start({ POD_NAME: "dash-a" }, { replicas: replicaSync(fake, "dash-a") });
    await eventually(() => ownerOf(fake) === "dash-a" || undefined, 10_000, "dash-a owns");
    const cut = { off: false };
    const b = await t.start({ POD_NAME: "dash-b" }, { replicas: cutOffReplica(fake, cut) });
    const strategy: WavesStrategy = waves({ count: 1 });
    const planned = assignWaves([{ name: "node-1" }, { name: "node-2" }], strategy);
    const canary = planned[0]![0]!;
    const other = planned[1]![0]!;
    await t.reporter(b, canary);
    const rest = await t.reporter(a, other);
    const next = await canaryApplied(a, 2, NEXT, strategy);

    // dash-b is cut off: its Lease expires on the owner (1 s here), which marks the canary
    // disconnected by the Lease alone; the canary's reporter stays connected to dash-b.
    cut.off = true;
    await eventually(
      async () =>
        (await rollout(a))?.message.includes(
          "whether it is alive and still holds the node is not known",
        ) || undefined,
      30_000,
      "the owner says dash-b's state is not known",
    );
    // Past the reconnect window after dash-b's Lease expired, and more: still not called gone.
    await new Promise((r) => setTimeout(r, 25_000));
    const v = (await rollout(a))!;
    expect(v.pause?.kind, v.message).not.toBe("failure");
    expect(v.message).toMatch(`No wave goes on until it is known whether ${canary} reconnected`);
    expect(v.actions.map((x) => x.action)).not.toContain("pause");
    expect(desired(rest), `${other} (wave 1) is not released`).not.toContain(next);
  }, 120_000);
});
