// Issue 17, every replica active (replica sync, the chart's default): an all-at-once rollout held
// open by a node whose reporter is away is kept by the rollout's owner on the history ConfigMap
// (rollout-extras.json `atOnce`, the state staged rollouts share), so a replica that restarts,
// or one that starts, shows it in progress on its fleet bar counting every node (its own and the
// others' by their NodeMasquerade) until every node applied it; its finish is told once, by the
// owner, over every node. Before, each replica's bar counted its own nodes only, and a
// restarted replica showed no rollout until the next save.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaStarter } from "./helpers/replicas.js";
import { barWhen, save, untilStatus } from "./helpers/restart.js";
import { ownerOf } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const t = kubeTestCluster();
const replica = replicaStarter(t);

const atOnceKept = (fake: FakeKubeApi): unknown =>
  JSON.parse(fake.configMap(NS, `${CM}-history`)?.data?.["rollout-extras.json"] ?? "{}").atOnce;

/** The Applied Events on the ConfigMap whose message matches (one per message, its count). */
const applied = (fake: FakeKubeApi, message: RegExp): number[] =>
  fake
    .events({ kind: "ConfigMap", name: CM })
    .filter((e) => e.reason === "Applied" && message.test(e.message ?? ""))
    .map((e) => e.count ?? 1);

/**
 * The record dropped, and the finish over every `n` nodes told once (one Event, not repeated
 * in the 1.5 s after it).
 */
async function toldOnce(fake: FakeKubeApi, revision: number, n: number): Promise<void> {
  await eventually(() => atOnceKept(fake) === undefined || undefined, 5000, "the record dropped");
  const whole = new RegExp(`^revision ${revision} .*applied on ${n} of ${n} nodes$`);
  await eventually(
    () => applied(fake, whole).length > 0 || undefined,
    5000,
    "the finish over every node told",
  );
  await new Promise((r) => setTimeout(r, 1500));
  expect(applied(fake, whole)).toEqual([1]);
}

describe("an all-at-once rollout across a replica restart, every replica active", () => {
  it("a restarted and a new replica show it over every node until every node applied; the finish told once", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const owner = await eventually(() => ownerOf(fake), 10_000, "a singleton Lease holder");
    expect(owner).toBe("dash-a");
    let b = await replica(fake, "dash-b");
    await t.reporter(a, "node-a");
    await t.reporter(b, "node-b");
    const away = await t.reporter(b, "node-c");
    for (const s of [a, b]) await untilStatus(s, "in-sync", 3);
    away.ws.terminate();
    for (const s of [a, b]) await untilStatus(s, "offline", 1);

    const { revision } = await save(a, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const open = { revision, total: 3, done: 2, pending: 1, failed: 0, finishedAt: null };
    for (const s of [a, b]) await barWhen(s, "two of three applied", (r) => r?.done === 2);
    await eventually(() => atOnceKept(fake), 5000, "the rollout kept on the history ConfigMap");
    expect(atOnceKept(fake)).toMatchObject({ revision, targets: 3 });

    // dash-b restarts (its pod name kept, as a container restart): node-b stays away meanwhile.
    await t.stop(b);
    b = await replica(fake, "dash-b");
    const resumed = await barWhen(b, "the resumed rollout over every node", (r) => r !== null);
    await barWhen(b, "counted over every node", (r) => r?.total === 3 && r.done === 2);
    expect(resumed).toMatchObject({ revision, finishedAt: null, resumedAt: expect.any(Number) });
    // A replica started now shows it too.
    const c = await replica(fake, "dash-c");
    await barWhen(c, "the rollout on a new replica", (r) => r?.total === 3 && r.done === 2);
    expect(await barWhen(c, "in progress", (r) => r !== null)).toMatchObject(open);
    await t.reporter(b, "node-b");

    // node-c back, on the new replica: every bar finishes, the record goes, the finish told once.
    await t.reporter(c, "node-c");
    for (const s of [a, b, c])
      await barWhen(
        s,
        "finished over every node",
        (r) => r?.finishedAt != null && r.done === 3 && r.pending === 0,
      );
    await toldOnce(fake, revision, 3);
    // The restarted and the new replica's bars (resumed) tell no finish of their own.
    expect(applied(fake, /held by replica dash-[bc]/)).toEqual([]);
  });

  it("the owner restarting: the replica taking its Lease over keeps it and tells the finish once", async () => {
    const fake = await t.cluster();
    let a = await replica(fake, "dash-a");
    expect(await eventually(() => ownerOf(fake), 10_000, "a singleton Lease holder")).toBe(
      "dash-a",
    );
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-a");
    const away = await t.reporter(b, "node-b");
    for (const s of [a, b]) await untilStatus(s, "in-sync", 2);
    away.ws.terminate();
    for (const s of [a, b]) await untilStatus(s, "offline", 1);
    const { revision } = await save(b, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await eventually(() => atOnceKept(fake), 5000, "the rollout kept on the history ConfigMap");

    await t.stop(a);
    await eventually(() => ownerOf(fake) === "dash-b" || undefined, 20_000, "dash-b owns it");
    a = await replica(fake, "dash-a");
    // node-a's NodeMasquerade says its holder went (health unknown): not counted done unseen.
    const resumed = await barWhen(a, "resumed over every node", (r) => r?.total === 2);
    expect(resumed).toMatchObject({ revision, finishedAt: null, resumedAt: expect.any(Number) });
    expect(atOnceKept(fake)).toMatchObject({ revision, targets: 2 });
    await t.reporter(a, "node-a");
    await t.reporter(b, "node-b");
    for (const s of [a, b])
      await barWhen(s, "finished", (r) => r?.finishedAt != null && r.done === 2);
    await toldOnce(fake, revision, 2);
    // dash-a's first process told its own node's finish; the restarted one (resumed) tells none.
    expect(applied(fake, /held by replica dash-a$/)).toEqual([1]);
  });
});
