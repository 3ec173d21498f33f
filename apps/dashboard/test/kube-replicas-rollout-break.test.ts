// Adversarial cases of the fleet-wide staged rollout (break5): each a reproduction of a node
// getting a wave's revision before its wave is released, or a view counting what it cannot see.
import { assignWaves, type StagedRolloutView, type WavesStrategy } from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import type { DashboardOptions } from "../src/server/http-server.js";
import { kubeClients } from "../src/server/kube/client.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaSync } from "./helpers/replicas.js";
import { desired, ownerOf, rollout, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
type Sim = Awaited<ReturnType<typeof t.reporter>>;

async function replica(fake: FakeKubeApi, pod: string, options: Partial<DashboardOptions> = {}) {
  const replicas = replicaSync(fake, pod);
  return Object.assign(await t.start({ POD_NAME: pod }, { replicas, ...options }), { replicas });
}
type Replica = Awaited<ReturnType<typeof replica>>;

const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function seen(reps: Replica[], nodes: number) {
  for (const r of reps)
    await eventually(
      async () => {
        const list = (await r.api("/api/nodes")).body;
        const cfg = (await r.api("/api/config")).body;
        return list.summary.byStatus["in-sync"] === nodes && cfg.stagedRefusal === null
          ? true
          : undefined;
      },
      10_000,
      `${r.replicas.replica}: every node in sync and the other replicas seen`,
    );
}

/** dash-a owning the rollout (it holds the singleton Lease), then dash-b following it. */
async function ownerAndFollower() {
  const fake = await t.cluster();
  const a = await replica(fake, "dash-a");
  await eventually(() => ownerOf(fake) === "dash-a" || undefined, 10_000, "dash-a owns");
  const b = await replica(fake, "dash-b");
  return { fake, a, b };
}

/** A reporter per name, the first two on `a` and the rest on `b`, every node seen by both. */
async function reportersOn(a: Replica, b: Replica, names: readonly string[]) {
  const sims = new Map<string, Sim>();
  for (const [i, n] of names.entries()) sims.set(n, await t.reporter(i < 2 ? a : b, n));
  await seen([a, b], names.length);
  return sims;
}

describe("break5: staged rollout across replicas", () => {
  it("a replica starting while the owner has not persisted the staged revision holds its nodes", async () => {
    const fake = await t.cluster();
    // The owner reads labels slowly (a big cluster): the revision is staged, not yet cut.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = await replica(fake, "dash-a", {
      nodeLabels: async (names) => {
        await gate;
        return new Map(names.map((n) => [n, { "kubernetes.io/hostname": n }]));
      },
    });
    await eventually(() => ownerOf(fake) === "dash-a" || undefined, 10_000, "dash-a owns");
    const sims = new Map<string, Sim>();
    sims.set("node-1", await t.reporter(a, "node-1"));
    const b = await replica(fake, "dash-b");
    sims.set("node-2", await t.reporter(b, "node-2"));
    await seen([a, b], 2);
    const before = (await b.api("/api/config")).body;
    const put = await b.api("/api/config", {
      method: "PUT",
      body: {
        yaml: NEXT,
        resourceVersion: before.resourceVersion,
        strategy: waves({ selector: { "kubernetes.io/hostname": "node-1" } }),
      },
    });
    expect(put.status).toBe(200);
    const next = put.body.revision as number;
    await eventually(
      async () => ((await a.api("/api/config")).body.revision === next ? true : undefined),
      10_000,
      "the owner saw the save",
    );
    // A replica starting now (scaled up, restarted) and a node reconnecting to it.
    const c = await replica(fake, "dash-c");
    const late = await t.reporter(c, "node-3");
    await sleep(1500);
    release();
    await everyRollout([a, b, c], (v) => v.phase === "paused");
    await eventually(() => desired(late).at(-1) === before.revision || undefined, 10_000, "node-3");
    expect(desired(late), "node-3 (not in the canary) on dash-c").not.toContain(next);
  });

  it("a NodeMasquerade deleted by hand (its holder writes it again) does not drop a pending remote canary node from the rollout", async () => {
    const { fake, a, b } = await ownerAndFollower();
    const strategy: WavesStrategy = {
      ...waves({ count: 1 }),
      pause: { kind: "duration", seconds: 1 },
    };
    const planned = assignWaves([{ name: "node-1" }, { name: "node-2" }], strategy);
    const canary = planned[0]![0]!;
    const other = planned[1]![0]!;
    // The canary node is held by the follower and is slow to apply (it never answers here).
    const slow = await t.reporter(b, canary);
    const fast = await t.reporter(a, other);
    await seen([a, b], 2);
    (slow.opts as { autoApply?: boolean }).autoApply = false;
    const before = (await a.api("/api/config")).body;
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    const next = put.body.revision as number;
    await eventually(() => desired(slow).at(-1) === next || undefined, 10_000, "canary sent");
    await everyRollout([a, b], (v) => v.phase === "progressing" && v.waves[0]!.total === 1);
    // kubectl delete nodemasquerade <canary>: its holder writes it again at once.
    fake.deleteObject("nodemasquerades", "", canary);
    await sleep(3000);
    const v = (await rollout(a))!;
    expect(v.phase, v.message).toBe("progressing");
    expect(v.waves[0]!.total, "the canary still counts its node").toBe(1);
    expect(v.phase).not.toBe("healthy");
    expect(desired(fast), `${other} (wave 1) is not released`).not.toContain(next);
  });
  it("a move request replayed by hand (an id performed before the last) is not performed again", async () => {
    const { fake, a, b } = await ownerAndFollower();
    const strategy: WavesStrategy = { ...waves({ count: 1 }), waves: [50, 100] };
    const names = ["node-1", "node-2", "node-3"];
    const planned = assignWaves(
      names.map((name) => ({ name })),
      strategy,
    );
    const sims = await reportersOn(a, b, names);
    const before = (await a.api("/api/config")).body;
    const put = await b.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    const next = put.body.revision as number;
    await everyRollout([a, b], (v) => v.phase === "paused" && v.step === 0);
    const history = () => fake.configMap("kube-system", "ip-masq-agent-history")!;
    // Asked on the follower: answered once the owner stored it (issue 17).
    expect((await b.api("/api/rollout/promote", { method: "POST", body: {} })).status).toBe(200);
    await everyRollout([a, b], (v) => v.phase === "paused" && v.step === 1);
    const first = history().data["rollout-request.json"] as string;
    // Another move asked on the follower, performed (a retry with nothing failed does nothing).
    expect((await b.api("/api/rollout/retry", { method: "POST", body: {} })).status).toBe(200);
    await eventually(
      () =>
        JSON.parse(history().data["rollout.json"]).performed !== JSON.parse(first).id || undefined,
      10_000,
      "the retry performed",
    );
    // kubectl edit: the promote's request written back as it was.
    const cm = history();
    fake.apply({ ...cm, data: { ...cm.data, "rollout-request.json": first } });
    await sleep(1500);
    const v = (await rollout(a))!;
    expect(v.step, "the replayed promote released no wave").toBe(1);
    for (const n of planned[2]!) expect(desired(sims.get(n)!), n).not.toContain(next);
  });
  it("a save refused as stale on a follower leaves no strategy behind for the same text saved elsewhere", async () => {
    const { a, b } = await ownerAndFollower();
    const strategy = waves({ count: 1 });
    const names = ["node-1", "node-2", "node-3", "node-4"];
    const planned = assignWaves(
      names.map((name) => ({ name })),
      strategy,
    );
    const sims = await reportersOn(a, b, names);
    const before = (await a.api("/api/config")).body;
    // On dash-b: the text, all at once, from a stale resourceVersion (someone saved meanwhile).
    const stale = await b.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: "1", strategy: { kind: "all-at-once" } },
    });
    expect(stale.status).toBe(409);
    // The same text saved on dash-a, in waves (the user reloaded, landed on another replica).
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    const next = put.body.revision as number;
    await everyRollout([a, b], (v) => v.phase === "paused");
    await sleep(500);
    for (const n of names)
      if (!planned[0]!.includes(n)) expect(desired(sims.get(n)!), n).not.toContain(next);
  });
  it("a save refused on a follower leaves no strategy behind for the same text edited with kubectl during a rollout", async () => {
    const { fake, a, b } = await ownerAndFollower();
    const strategy = waves({ count: 1 });
    const names = ["node-1", "node-2", "node-3", "node-4"];
    const sims = await reportersOn(a, b, names);
    const before = (await a.api("/api/config")).body;
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    await everyRollout([a, b], (v) => v.phase === "paused");
    const THIRD = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24, 203.0.113.0/24]\n";
    const stale = await b.api("/api/config", {
      method: "PUT",
      body: { yaml: THIRD, resourceVersion: "1", strategy: { kind: "all-at-once" } },
    });
    expect(stale.status).toBe(409);
    // kubectl edit: the same text (no strategy of its own: staged like the running rollout).
    const cm = fake.configMap("kube-system", "ip-masq-agent")!;
    fake.apply({ ...cm, data: { ...cm.data, config: THIRD } }, "kubectl-edit");
    await eventually(
      async () =>
        (await b.api("/api/config")).body.revision > put.body.revision ? true : undefined,
      10_000,
      "the edit seen",
    );
    const third = (await b.api("/api/config")).body.revision as number;
    await everyRollout([a, b], (v) => v.revision === third);
    await sleep(500);
    const v = (await rollout(a))!;
    const unreleased = v.waves.slice(1).flatMap((w) => [...w.pendingNodes, ...w.appliedNodes]);
    expect(unreleased.length).toBeGreaterThan(0);
    for (const n of unreleased) expect(desired(sims.get(n)!), n).not.toContain(third);
  });
  it("an abort asked on a follower while the owner stops is performed by the next owner", async () => {
    const { fake, a, b } = await ownerAndFollower();
    const c = await replica(fake, "dash-c");
    const strategy = waves({ count: 2 });
    const names = ["node-1", "node-2", "node-3", "node-4", "node-5", "node-6"];
    const sims = new Map<string, Sim>();
    const reps = [a, b, c];
    for (const [i, n] of names.entries()) sims.set(n, await t.reporter(reps[i % 3]!, n));
    await seen(reps, 6);
    const before = (await a.api("/api/config")).body;
    const put = await b.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    await everyRollout(reps, (v) => v.phase === "paused");
    const stopping = t.stop(a);
    const abort = await c.api("/api/rollout/abort", { method: "POST", body: {} });
    // The owner stopping: made by its successor within the wait (200), or not confirmed yet.
    if (abort.status === 202) expect(abort.body.requested).toContain("not confirmed yet");
    else expect(abort.status).toBe(200);
    await stopping;
    for (const [i, n] of names.entries())
      if (i % 3 === 0) sims.set(n, await t.reporter(i % 2 ? b : c, n));
    await everyRollout([b, c], (v) => v.aborted);
    for (const [n, sim] of sims)
      await eventually(() => desired(sim).at(-1) === before.revision || undefined, 10_000, n);
  });
  it("a follower that cannot list the replica Leases (yet) holds a staged revision, not at once", async () => {
    const { fake, a, b } = await ownerAndFollower();
    // dash-c's list of the replica Leases fails (a missing RBAC rule, an API server in trouble).
    const clients = kubeClients(fake.kubeConfig());
    clients.coordination.listNamespacedLease = () => Promise.reject(new Error("forbidden"));
    const cSync = replicaSync(fake, "dash-c", { clients });
    const c = Object.assign(await t.start({ POD_NAME: "dash-c" }, { replicas: cSync }), {
      replicas: cSync,
    });
    const strategy = waves({ count: 1 });
    const names = ["node-1", "node-2", "node-3", "node-4"];
    const planned = assignWaves(
      names.map((name) => ({ name })),
      strategy,
    );
    const sims = new Map<string, Sim>();
    const on = [a, b, c, c];
    for (const [i, n] of names.entries()) sims.set(n, await t.reporter(on[i]!, n));
    await seen([a, b], 4);
    const before = (await a.api("/api/config")).body;
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    const next = put.body.revision as number;
    await everyRollout([a, b], (v) => v.phase === "paused");
    await sleep(1000);
    for (const n of ["node-3", "node-4"])
      if (!planned[0]!.includes(n)) expect(desired(sims.get(n)!), n).not.toContain(next);
  });
});

async function everyRollout(reps: Replica[], ok: (v: StagedRolloutView) => boolean) {
  for (const r of reps)
    await eventually(
      async () => {
        const v = await rollout(r);
        return v && ok(v) ? true : undefined;
      },
      10_000,
      `${r.replicas.replica}: rollout`,
    );
}
