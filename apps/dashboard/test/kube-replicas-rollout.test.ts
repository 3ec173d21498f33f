// Issue 17: one staged rollout across every active dashboard replica, in process against the
// test API server through the real client-node. The holder of the singleton Lease owns the
// rollout: it cuts the waves over every node (those other replicas hold, by their
// NodeMasquerade), steps it, counts remote outcomes, and writes rollout.json; every other
// replica follows that state through its watch of the history ConfigMap, holding its nodes on
// the previous revision until it has read it, and passes promote/retry/abort on as requests.
// Before, a canary of one node saved on replica A reached the nodes B and C held at once.
import {
  assignWaves,
  boundsOf,
  placeByBounds,
  type StagedRolloutView,
  type WavesStrategy,
} from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { RECONNECT_GRACE_MS } from "../src/server/fleet/staged-offline.js";
import { kubeClients } from "../src/server/kube/client.js";
import { nodeMasqueradeApi } from "../src/server/replicas/node-masquerade-api.js";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaStarter, replicaSync } from "./helpers/replicas.js";
import { desired, ownerOf, rollout, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
/**
 * A replica whose reconnect writes are behind (a survivor of a replica that died holding
 * thousands of nodes: at 50/s, ~60 s): its status writes of these nodes saying it holds them
 * wait `ms` before they reach the API server. None by default.
 */
const behind = { replica: "", nodes: new Set<string>(), ms: 0 };
const replica = replicaStarter(t, (pod) => {
  const api = nodeMasqueradeApi(kubeClients(t.fake.kubeConfig()).kc);
  return {
    api: {
      ...api,
      async patchStatus(name, status, rv) {
        const late = pod === behind.replica && behind.nodes.has(name) && status.connected;
        if (late) await new Promise((r) => setTimeout(r, behind.ms));
        return api.patchStatus(name, status, rv);
      },
    },
  };
});
type Replica = Awaited<ReturnType<typeof replica>>;
type Sim = Awaited<ReturnType<typeof t.reporter>>;

const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const NODES = ["node-1", "node-2", "node-3", "node-4", "node-5", "node-6"];

/** Replicas dash-a, dash-b, dash-c with two nodes each, every node in sync on every replica. */
async function threeReplicas(fake: FakeKubeApi) {
  const reps: Replica[] = [];
  const sims = new Map<string, Sim>();
  for (const [i, pod] of ["dash-a", "dash-b", "dash-c"].entries()) {
    const r = await replica(fake, pod);
    reps.push(r);
    for (const n of NODES.slice(2 * i, 2 * i + 2)) sims.set(n, await t.reporter(r, n));
  }
  for (const r of reps)
    await eventually(
      async () => {
        const list = (await r.api("/api/nodes")).body;
        const cfg = (await r.api("/api/config")).body;
        return list.summary.byStatus["in-sync"] === 6 && cfg.stagedRefusal === null
          ? true
          : undefined;
      },
      10_000,
      "every node in sync and the other replicas seen",
    );
  const owner = await eventually(() => ownerOf(fake), 10_000, "a singleton Lease holder");
  const others = reps.filter((r) => r.replicas.replica !== owner);
  return { reps, sims, owner: reps.find((r) => r.replicas.replica === owner)!, others };
}

/** Three replicas, `strategy` saved on the owner; `planned`: the waves it cuts. */
async function savedInWaves(fake: FakeKubeApi, strategy: WavesStrategy) {
  const three = await threeReplicas(fake);
  const before = (await three.reps[0]!.api("/api/config")).body;
  const put = await three.owner.api("/api/config", {
    method: "PUT",
    body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
  });
  const planned = assignWaves(
    NODES.map((name) => ({ name })),
    strategy,
  );
  return { ...three, before, put, planned };
}

/** Every reporter's newest desired revision is `want(name)`; none got `never` before. */
async function expectRevisions(
  sims: Map<string, Sim>,
  want: (name: string) => number,
  never?: (name: string) => number | undefined,
) {
  for (const [name, sim] of sims) {
    await eventually(
      () => desired(sim).at(-1) === want(name),
      10_000,
      `${name} on revision ${want(name)} (got ${desired(sim).join(",")})`,
    );
    const no = never?.(name);
    if (no !== undefined) expect(desired(sim), name).not.toContain(no);
  }
}

async function everyReplica(
  reps: (KubeTestServer & { replicas?: { replica: string } })[],
  ok: (v: StagedRolloutView) => boolean,
  what: string,
) {
  for (const [i, r] of reps.entries())
    await eventually(
      async () => {
        const v = await rollout(r);
        return v && ok(v) ? true : undefined;
      },
      10_000,
      `${r.replicas?.replica ?? `replica ${i}`}: ${what}`,
    );
}

describe("one staged rollout across three active replicas", () => {
  it("canary by percentage with nodes on every replica; a late node lands in its wave; promote from a non-owner", async () => {
    const fake = await t.cluster();
    const { reps, sims, others } = await threeReplicas(fake);
    const before = (await reps[0]!.api("/api/config")).body;
    const strategy = waves({ percent: 34 });
    const put = await others[0]!.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: before.resourceVersion, strategy },
    });
    expect(put.status).toBe(200);
    const next = put.body.revision as number;
    const planned = assignWaves(
      NODES.map((name) => ({ name })),
      strategy,
    );
    expect(planned[0]).toHaveLength(3); // 34% of 6, rounded up
    const inCanary = (n: string) => planned[0]!.includes(n);
    await expectRevisions(
      sims,
      (n) => (inCanary(n) ? next : before.revision),
      (n) => (inCanary(n) ? undefined : next),
    );
    await everyReplica(
      reps,
      (v) => v.phase === "paused" && v.waves[0]!.applied === 3 && v.waves[1]!.total === 3,
      "canary applied, counted over every node",
    );

    // A node joining late on a non-owner replica: the wave the boundaries place it in.
    const lateWave = placeByBounds(strategy, boundsOf(planned, strategy))({ name: "node-7" });
    const late = await t.reporter(others[1]!, "node-7");
    sims.set("node-7", late);
    const lateWant = lateWave === 0 ? next : before.revision;
    await eventually(() => desired(late).at(-1) === lateWant, 10_000, `node-7 on ${lateWant}`);

    // Promote asked on a replica that does not own the rollout: requested, performed once.
    const promote = await others[1]!.api("/api/rollout/promote", { method: "POST", body: {} });
    // Answered once the owner stored it (issue 17): 200, the view here saying it.
    expect(promote.status).toBe(200);
    expect(promote.body.requested).toBeUndefined();
    expect(promote.body.rollout.step).toBeGreaterThan(0);
    await expectRevisions(sims, () => next);
    await everyReplica(reps, (v) => v.phase === "healthy", "healthy");
    const v = (await rollout(reps[0]!))!;
    expect(v.actions.filter((a) => a.action === "promote")).toEqual([
      expect.objectContaining({ user: `admin (via replica ${others[1]!.replicas.replica})` }),
    ]);
  });

  it("canary by selector on another replica's node; it fails to apply: paused; abort from a non-owner returns every node", async () => {
    const fake = await t.cluster();
    const { reps, sims, others } = await threeReplicas(fake);
    const before = (await reps[0]!.api("/api/config")).body;
    sims.get("node-3")!.failApplies = "iptables-restore: line 3 failed";
    const put = await others[1]!.api("/api/config", {
      method: "PUT",
      body: {
        yaml: NEXT,
        resourceVersion: before.resourceVersion,
        strategy: waves({ selector: { "kubernetes.io/hostname": "node-3" } }),
      },
    });
    expect(put.status).toBe(200);
    const next = put.body.revision as number;
    await everyReplica(
      reps,
      (v) =>
        v.phase === "paused" &&
        /^paused: node-3 failed to apply: (apply failed: )?iptables-restore: line 3 failed/.test(
          v.message,
        ),
      "paused on node-3's failure",
    );
    for (const [name, sim] of sims)
      expect(desired(sim), name).toEqual(
        name === "node-3" ? [before.revision, next] : [before.revision],
      );
    const abort = await others[0]!.api("/api/rollout/abort", { method: "POST", body: {} });
    expect(abort.status).toBe(200);
    expect(abort.body.rollout.aborted).toBe(true);
    await everyReplica(reps, (v) => v.aborted, "aborted");
    await expectRevisions(sims, () => before.revision);
  });

  it("the owner stops mid-rollout: another replica takes the singleton Lease and goes on from rollout.json", async () => {
    const fake = await t.cluster();
    const { reps, sims, owner, others, before, put, planned } = await savedInWaves(
      fake,
      waves({ count: 2 }),
    );
    const next = put.body.revision as number;
    await everyReplica(reps, (v) => v.phase === "paused", "canary applied");
    const gone = owner.replicas.replica;
    const moved = NODES.filter((n) => gone === holderOf(fake, n));
    await t.stop(owner);
    const successor = await eventually(
      () => {
        const h = ownerOf(fake);
        return h && h !== gone ? h : undefined;
      },
      20_000,
      "a new singleton Lease holder",
    );
    // The stopped owner's nodes reconnect to a replica left; each gets its wave's revision.
    for (const n of moved) sims.set(n, await t.reporter(others[0]!, n));
    const wave = (n: string) => planned.findIndex((w) => w.includes(n));
    await expectRevisions(sims, (n) => (wave(n) === 0 ? next : before.revision));
    await everyReplica(others, (v) => v.phase === "paused" && v.waves[0]!.applied === 2, "resumed");
    const newOwner = others.find((r) => r.replicas.replica === successor)!;
    const promote = await newOwner.api("/api/rollout/promote", { method: "POST", body: {} });
    expect(promote.status).toBe(200);
    await expectRevisions(sims, () => next);
    await everyReplica(others, (v) => v.phase === "healthy", "healthy");
  });
});

/**
 * Saved in waves (canary 50%), the canary applied; then the follower holding a canary node
 * stops and its nodes reconnect to `to(owner, others, stopping)` (`before` runs first), their
 * reporters beating as real ones do (the simulated ones do not) until `stop()`.
 */
async function canaryHolderStops(
  fake: FakeKubeApi,
  to: (owner: Replica, others: Replica[], stopping: Replica) => Replica,
  before: (target: Replica, moved: string[]) => void = () => {},
) {
  const saved = await savedInWaves(fake, waves({ percent: 50 }));
  const { reps, sims, others, put, planned } = saved;
  expect(put.status).toBe(200);
  const canary = planned[0]!;
  await everyReplica(reps, (v) => v.phase === "paused", "canary applied");
  const stopping = others.find((r) =>
    canary.some((n) => holderOf(fake, n) === r.replicas.replica),
  )!;
  const target = to(saved.owner, others, stopping);
  const moved = NODES.filter((n) => holderOf(fake, n) === stopping.replicas.replica);
  before(target, moved);
  await t.stop(stopping);
  const offline = moved.find((n) => canary.includes(n))!;
  await eventually(
    () => nodeMasquerade(fake, offline)?.status?.connected === false || undefined,
    10_000,
    `${offline} offline by its NodeMasquerade`,
  );
  for (const n of moved) sims.set(n, await t.reporter(target, n));
  const beat = setInterval(() => {
    for (const sim of sims.values()) sim.send({ type: "heartbeat", v: 2, ts: Date.now() });
  }, 1_000);
  return { ...saved, offline, stop: () => clearInterval(beat) };
}

/** Not paused: promoted, every node gets the revision. */
async function goesOn(s: Awaited<ReturnType<typeof canaryHolderStops>>) {
  const v = (await rollout(s.owner))!;
  expect(v.pause).toEqual({ kind: "manual" });
  expect(v.actions.map((a) => a.action)).not.toContain("pause");
  const promote = await s.owner.api("/api/rollout/promote", { method: "POST", body: {} });
  expect(promote.status).toBe(200);
  await expectRevisions(s.sims, () => s.put.body.revision as number);
}

describe("a dashboard rolling restart mid-rollout", () => {
  it("canary nodes that reconnect to another replica within the grace do not pause it as offline", async () => {
    const fake = await t.cluster();
    // A follower holding a canary node restarts: its nodes reconnect to the owner.
    const s = await canaryHolderStops(fake, (owner) => owner);
    try {
      await new Promise((r) => setTimeout(r, RECONNECT_GRACE_MS + 3_000));
    } finally {
      s.stop();
    }
    await goesOn(s);
  }, 60_000);
});

describe("a replica dies mid-rollout and the survivor's reconnect writes are behind (break7)", () => {
  it("the owner waits for the survivor to report, says what it waits for, and does not pause", async () => {
    const fake = await t.cluster();
    // The survivor's writes saying it holds the moved nodes land 25 s late.
    const late = (target: Replica, moved: string[]) =>
      Object.assign(behind, {
        replica: target.replicas.replica,
        nodes: new Set(moved),
        ms: 25_000,
      });
    try {
      const survivor = (_: Replica, others: Replica[], stopping: Replica) =>
        others.find((r) => r !== stopping)!;
      const s = await canaryHolderStops(fake, survivor, late);
      try {
        // Past the fixed 15 s the owner judged by before: waiting, and saying for what.
        await new Promise((r) => setTimeout(r, RECONNECT_GRACE_MS + 3_000));
        expect((await rollout(s.owner))!.message).toMatch(
          new RegExp(
            `not yet reported connected by any replica \\(waiting for the replicas' reconnects to be written: ${behind.replica}: [12] reconnects not yet written`,
          ),
        );
        // The survivor's write lands: the suspect is dropped, no pause.
        await eventually(
          () => nodeMasquerade(fake, s.offline)?.status?.connected === true || undefined,
          20_000,
          `${s.offline} connected by its NodeMasquerade`,
        );
        await everyReplica([s.owner], (x) => !/No wave goes on/.test(x.message), "suspect dropped");
      } finally {
        s.stop();
      }
      await goesOn(s);
    } finally {
      Object.assign(behind, { replica: "", nodes: new Set(), ms: 0 });
    }
  }, 90_000);
});

describe("a change made outside the dashboard with a default strategy in waves", () => {
  it("is staged fleet-wide too: one canary over every replica's nodes, the rest held", async () => {
    const fake = await t.cluster();
    const strategy = waves({ count: 1 });
    const env = { IPMASQ_ROLLOUT_STRATEGY: JSON.stringify(strategy) };
    const reps: KubeTestServer[] = [];
    const sims = new Map<string, Sim>();
    for (const [i, pod] of ["dash-a", "dash-b"].entries()) {
      const r = await t.start({ POD_NAME: pod, ...env }, { replicas: replicaSync(fake, pod) });
      reps.push(r);
      for (const n of NODES.slice(2 * i, 2 * i + 2)) sims.set(n, await t.reporter(r, n));
    }
    for (const r of reps)
      await eventually(
        async () => (await r.api("/api/nodes")).body.summary.byStatus["in-sync"] === 4,
        10_000,
        "every node in sync",
      );
    await eventually(() => ownerOf(fake), 10_000, "a singleton Lease holder");
    const before = (await reps[0]!.api("/api/config")).body;
    fake.kubectlEdit("kube-system", "ip-masq-agent", { config: NEXT });
    const next = await eventually(async () => {
      const cfg = (await reps[0]!.api("/api/config")).body;
      return cfg.revision !== before.revision ? (cfg.revision as number) : undefined;
    });
    const canary = assignWaves(
      [...sims.keys()].map((name) => ({ name })),
      strategy,
    )[0]!;
    await expectRevisions(
      sims,
      (n) => (canary.includes(n) ? next : before.revision),
      (n) => (canary.includes(n) ? undefined : next),
    );
    await everyReplica(reps, (v) => v.phase === "paused", "canary applied");
  });
});

/** The replica a NodeMasquerade says holds the node. */
function holderOf(fake: FakeKubeApi, node: string): string | undefined {
  return (fake.customObject("nodemasquerades", "", node) as { status?: { replica?: string } })
    ?.status?.replica;
}
