// Kubernetes mode without replica sync (`dashboard.replicaSync.enabled: false`): an all-at-once rollout held open
// by a node whose reporter is away is kept on the history ConfigMap (rollout-extras.json
// `atOnce`) and tracked again on the fleet bar by a restarted dashboard. That store keeps no node
// roster, so the targets not back are counted by number, unseen, until each reporter is back
// and applied it; then the record goes. Before, the restarted dashboard's bar said no rollout.
import type { Rollout } from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { beforeEach, describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { barOf, barWhen, noneBack, save, untilStatus } from "./helpers/restart.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const k = kubeTestCluster();
let fake: FakeKubeApi;

beforeEach(async () => {
  fake = await k.cluster();
});

/** The chart's dashboard without replica sync: one replica holds every node. */
const NO_SYNC = { IPMASQ_REPLICA_SYNC: "false" };

const atOnceKept = (): unknown =>
  JSON.parse(fake.configMap(NS, `${CM}-history`)?.data?.["rollout-extras.json"] ?? "{}").atOnce;

describe("an all-at-once rollout across a restart, Kubernetes store", () => {
  it("kept on the history ConfigMap, tracked again by number, dropped once every node applied", async () => {
    const s = await k.start(NO_SYNC);
    const away = await k.reporter(s, "node-c");
    for (const n of ["node-a", "node-b"]) await k.reporter(s, n);
    await untilStatus(s, "in-sync", 3);
    away.ws.terminate();
    await untilStatus(s, "offline", 1);
    const { revision } = await save(s, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await barWhen(s, "two applied", (r) => r?.revision === revision && r.done === 2);
    await eventually(() => atOnceKept(), 5000, "the rollout kept on the history ConfigMap");
    expect(atOnceKept()).toMatchObject({ revision, targets: 3 });

    await k.stop(s);
    const again = await k.start(NO_SYNC);
    const first: Rollout | null = await barWhen(again, "the resumed rollout", (r) => r !== null);
    expect(first).toMatchObject(noneBack(revision, 3));
    for (const n of ["node-a", "node-b"]) await k.reporter(again, n);
    await barWhen(
      again,
      "two back",
      (r) => r?.done === 2 && r.unseen === 1 && r.finishedAt === null,
    );
    await k.reporter(again, "node-c");
    const done = await barWhen(again, "finished", (r) => r?.finishedAt != null);
    expect(done).toMatchObject({ revision, total: 3, done: 3, failed: 0 });
    await eventually(() => atOnceKept() === undefined || undefined, 5000, "the record dropped");

    await k.stop(again);
    const third = await k.start(NO_SYNC);
    expect(await barOf(third)).toBeNull();
  });
});
