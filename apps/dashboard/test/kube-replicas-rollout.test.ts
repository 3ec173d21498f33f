// Issue 17: staged rollouts while several dashboard replicas are active, in process against the
// test API server. Each replica pushes a change to the reporters it holds, and a staged
// rollout's waves, pauses and promotions live in one replica: before this guard a canary of one
// node saved on replica A sent the new revision at once to every node held by B and C (5 of 6
// nodes), and B and C answered promote/abort with "no staged rollout". So with other replicas
// active, waves are refused with why and what to do instead, a change goes to every node at
// once, and a rollout started while one replica was alone is held until it is alone again.
import {
  assignWaves,
  boundsOf,
  type DashboardMessage,
  placeByBounds,
  type StagedRolloutView,
  type WavesStrategy,
} from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { replicaStarter, replicaSync } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const replica = replicaStarter(t);
type Replica = Awaited<ReturnType<typeof replica>>;
type Sim = Awaited<ReturnType<typeof t.reporter>>;

const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const waves = (canary: WavesStrategy["canary"]): WavesStrategy => ({
  kind: "waves",
  canary,
  waves: [100],
  pause: { kind: "manual" },
});
/** The revisions of the `desired` frames a reporter got, in order. */
const desired = (s: Sim) =>
  s.received.flatMap((m: DashboardMessage) => (m.type === "desired" ? [m.revision] : []));
const rollout = async (s: KubeTestServer): Promise<StagedRolloutView | null> =>
  (await s.api("/api/rollout")).body.rollout;

/** Replicas dash-a, dash-b, dash-c with two nodes each, every node in sync on dash-a's view. */
async function threeReplicas(fake: FakeKubeApi) {
  const reps: Replica[] = [];
  const sims = new Map<string, Sim>();
  for (const [pod, nodes] of [
    ["dash-a", ["node-1", "node-2"]],
    ["dash-b", ["node-3", "node-4"]],
    ["dash-c", ["node-5", "node-6"]],
  ] as const) {
    const r = await replica(fake, pod);
    reps.push(r);
    for (const n of nodes) sims.set(n, await t.reporter(r, n));
  }
  for (const r of reps)
    await eventually(
      async () => {
        const list = (await r.api("/api/nodes")).body;
        const cfg = (await r.api("/api/config")).body;
        return list.summary.byStatus["in-sync"] === 6 && cfg.stagedRefusal ? true : undefined;
      },
      10_000,
      "every node in sync and the other replicas seen",
    );
  return { reps, sims };
}

describe("staged rollouts while several replicas are active", () => {
  it("refuses waves on any replica (422: why, what to do; nothing saved); all at once reaches every node", async () => {
    const fake = await t.cluster();
    const { reps, sims } = await threeReplicas(fake);
    const [a, b, c] = reps as [Replica, Replica, Replica];
    const before = (await a.api("/api/config")).body;
    expect(before.stagedRefusal).toBe(
      "dashboard replicas dash-b, dash-c are active too and each replica pushes a change to the nodes it holds, so waves run by one replica would not hold the change back from the others' nodes",
    );
    const cases = [
      { desc: "canary by percentage, on the singleton holder", on: a, canary: { percent: 34 } },
      {
        desc: "canary by label selector",
        on: b,
        canary: { selector: { "kubernetes.io/hostname": "node-3" } },
      },
      { desc: "canary by count, on a third replica", on: c, canary: { count: 1 } },
    ];
    for (const { desc, on, canary } of cases) {
      const put = await on.api("/api/config", {
        method: "PUT",
        body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy: waves(canary) },
      });
      expect(put.status, desc).toBe(422);
      expect(put.body.error, desc).toMatch(
        /^a staged rollout is refused: dashboard replicas dash-[abc], dash-[abc] are active too .*\. Nothing was saved; roll out all at once, or run one dashboard replica \(dashboard\.replicas: 1\) to roll out in waves$/,
      );
    }
    const back = await b.api(`/api/history/${before.resourceVersion}/rollback`, {
      body: { resourceVersion: before.resourceVersion, strategy: waves({ count: 1 }) },
    });
    expect(back.status).toBe(422);
    expect((await a.api("/api/config")).body.resourceVersion).toBe(before.resourceVersion);
    for (const [name, sim] of sims) expect(desired(sim), name).toEqual([before.revision]);

    const put = await b.api("/api/config", {
      method: "PUT",
      body: {
        yaml: NEXT,
        resourceVersion: before.resourceVersion,
        strategy: { kind: "all-at-once" },
      },
    });
    expect(put.status).toBe(200);
    for (const [name, sim] of sims)
      await eventually(
        () => desired(sim).at(-1) === put.body.revision,
        10_000,
        `${name} got revision ${put.body.revision}`,
      );
    for (const r of reps) expect(await rollout(r)).toBeNull();
    // Each replica's "Applied" Event counts the nodes it holds, and says so.
    const applied = () =>
      fake
        .events({ kind: "ConfigMap", name: "ip-masq-agent" })
        .filter((e) => e.reason === "Applied")
        .map((e) => String(e.message))
        .sort();
    await eventually(() => applied().length === 3, 10_000, "three Applied Events");
    expect(applied()).toEqual(
      ["dash-a", "dash-b", "dash-c"].map(
        (r) =>
          `revision ${put.body.revision} (resourceVersion ${put.body.resourceVersion}) applied on 2 of 2 nodes held by replica ${r}`,
      ),
    );
  });

  it("a default strategy with waves: a save naming none is refused, a kubectl edit goes to every node at once", async () => {
    const fake = await t.cluster();
    const env = { IPMASQ_ROLLOUT_STRATEGY: JSON.stringify(waves({ count: 1 })) };
    const reps: KubeTestServer[] = [];
    const sims: Sim[] = [];
    for (const pod of ["dash-a", "dash-b"]) {
      const r = await t.start({ POD_NAME: pod, ...env }, { replicas: replicaSync(fake, pod) });
      reps.push(r);
      sims.push(await t.reporter(r, `${pod}-node-1`), await t.reporter(r, `${pod}-node-2`));
    }
    const a = reps[0]!;
    await eventually(
      async () => (await a.api("/api/config")).body.stagedRefusal,
      10_000,
      "dash-b seen",
    );
    const before = (await a.api("/api/config")).body;
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion },
    });
    expect(put.status).toBe(422);
    expect(put.body.error).toMatch(
      /\(this save names no strategy, and the default one has waves: send "strategy": \{"kind": "all-at-once"\}\)$/,
    );
    fake.kubectlEdit("kube-system", "ip-masq-agent", { config: NEXT });
    const rev = await eventually(async () => {
      const cfg = (await a.api("/api/config")).body;
      return cfg.revision !== before.revision ? (cfg.revision as number) : undefined;
    });
    for (const [i, sim] of sims.entries())
      await eventually(() => desired(sim).at(-1) === rev, 10_000, `reporter ${i} got ${rev}`);
    for (const r of reps) expect(await rollout(r)).toBeNull();
  });
});

/** promote, retry and abort on either replica: 409, saying why and what to do instead. */
async function expectMovesRefused(a: Replica, b: Replica, previous: number) {
  const moves = [
    { on: a, action: "promote" },
    { on: b, action: "promote" },
    { on: a, action: "abort" },
    { on: b, action: "retry" },
  ];
  for (const { on, action } of moves) {
    const r = await on.api(`/api/rollout/${action}`, { method: "POST", body: {} });
    expect(r.status, `${action} on ${on.replicas.replica}`).toBe(409);
    expect(r.body.error).toMatch(
      new RegExp(
        `^${action} is refused: dashboard replica dash-[ab] is active too .*, and a ${action} here would reach only the nodes this replica holds\\. To return every node to the previous config, roll back to revision ${previous} all at once; to go on, ${action} once one replica is left$`,
      ),
    );
  }
}

describe("a staged rollout started while one replica was alone", () => {
  it("is held while a second replica is active (moves refused with why, nodes keep their wave), goes on once alone", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const names = ["node-1", "node-2", "node-3"];
    const sims = new Map<string, Sim>();
    for (const n of names) sims.set(n, await t.reporter(a, n));
    await eventually(
      async () => (await a.api("/api/nodes")).body.summary.byStatus["in-sync"] === 3,
      10_000,
      "in sync",
    );
    const before = (await a.api("/api/config")).body;
    expect(before.stagedRefusal).toBeNull();
    const strategy = waves({ count: 1 });
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    // The strategy travels with the revision, in the same update as the text (every replica
    // reads it with the revision; scale-out.md step 1).
    const cm = fake.configMap("kube-system", "ip-masq-agent") as {
      metadata: { annotations: Record<string, string> };
    };
    expect(JSON.parse(cm.metadata.annotations["ipmasq.dev/rollout-strategy"]!)).toEqual(strategy);
    await eventually(async () => (await rollout(a))?.phase === "paused", 10_000, "canary applied");
    const planned = assignWaves(
      names.map((name) => ({ name })),
      strategy,
    );

    // A second replica starts (a rolling update, a scale-up): it reads the persisted rollout,
    // and its node gets the revision of the wave the boundaries fixed at the start place it in.
    const b = await replica(fake, "dash-b");
    const late = await t.reporter(b, "node-4");
    const lateWave = placeByBounds(strategy, boundsOf(planned, strategy))({ name: "node-4" });
    const want = lateWave === 0 ? put.body.revision : before.revision;
    await eventually(() => desired(late).at(-1) === want, 10_000, `node-4 on revision ${want}`);
    await eventually(async () => (await rollout(a))?.message.includes("Held: "), 10_000, "held");
    const held = (await rollout(a))!;
    expect(held.held).toMatch(/^dashboard replica dash-b is active too /);
    expect(held.message).toBe(
      "the canary applied; paused until promoted. Held: dashboard replica dash-b is active too and each replica pushes a change to the nodes it holds, so waves run by one replica would not hold the change back from the others' nodes; this view counts only the nodes this replica holds, and no wave is released or finished until one replica is left",
    );
    await expectMovesRefused(a, b, before.revision);
    for (const [i, wave] of planned.entries())
      for (const n of wave)
        expect(desired(sims.get(n)!).at(-1), n).toBe(i === 0 ? put.body.revision : before.revision);

    // Alone again: the rollout goes on from where it was.
    await t.stop(b);
    await eventually(
      async () => !(await rollout(a))?.message.includes("Held: "),
      10_000,
      "not held",
    );
    const promote = await a.api("/api/rollout/promote", { method: "POST", body: {} });
    expect(promote.status).toBe(200);
    await eventually(async () => (await rollout(a))?.phase === "healthy", 10_000, "healthy");
    for (const [n, sim] of sims) expect(desired(sim).at(-1), n).toBe(put.body.revision);
  });
});
