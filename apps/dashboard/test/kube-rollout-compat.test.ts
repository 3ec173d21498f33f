// Issue 17: rollout.json on the history ConfigMap stays readable by the previous release (its
// strict schema refuses the per-wave digests): they go to `rollout-extras.json` in the same
// update, and are put back only while rollout.json is the text they were written with
// (fleet/staged-compat.ts), through the real @kubernetes/client-node and the chart's RBAC.
import { describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { readKubeRollout, saveKubeRollout } from "../src/server/store/kube-rollout.js";
import { kubeTestCluster } from "./helpers/kube-server.js";

const t = kubeTestCluster();
const NS = "kube-system";
const HISTORY = "ip-masq-agent-history";
const state = { version: 2, current: { revision: 7, sizes: [1, 5], digests: [11, 22] }, past: [] };

describe("rollout.json and its extras on the history ConfigMap", () => {
  it("reads back the digests written with it; drops them once an older owner rewrote it", async () => {
    const fake = await t.cluster();
    const o = {
      core: kubeClients(fake.kubeConfig()).core,
      namespace: NS,
      name: HISTORY,
      create: true,
    };
    await saveKubeRollout(o, state);
    const cm = fake.configMap(NS, HISTORY)!;
    expect(JSON.parse(cm.data!["rollout.json"]!).current.digests).toBeUndefined();
    expect((await readKubeRollout(o)).state).toEqual(state);

    // The previous release (after `helm rollback`) promotes: it rewrites rollout.json and keeps
    // the keys it does not know.
    const older = { version: 2, current: { revision: 7, sizes: [1, 6] }, past: [] };
    fake.apply({ ...cm, data: { ...cm.data, "rollout.json": JSON.stringify(older) } });
    const back = await readKubeRollout(o);
    expect(back.state).toEqual(older);
    expect(back.dropped).toMatch(/belongs to another rollout.json/);

    // No rollout: both keys go.
    await saveKubeRollout(o, null);
    const data = fake.configMap(NS, HISTORY)!.data ?? {};
    expect(Object.keys(data).filter((k) => k.startsWith("rollout"))).toEqual([]);
  });
});
