// A staged rollout over a fleet whose node names alone would not fit the history ConfigMap (the
// rollout state used to list every node of its waves, and such a save was refused with 422,
// fleet/staged-size.ts): the state now keeps boundaries in the stable hash order and a small
// canary's names, and every replica places every node from them. Here the nodes are known by
// NodeMasquerades of a replica that is gone (a fleet this test machine could not connect), with
// long names (DNS subdomains up to 253 characters) so that a few thousand take the bytes
// ~18,000 AWS-style names would.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaStarter } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const replica = replicaStarter(t);

const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const STRATEGY = {
  kind: "waves",
  canary: { count: 3 },
  waves: [50, 100],
  pause: { kind: "manual" },
};
/** Nodes another (gone) replica held. */
const COUNT = 3_800;
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

describe("a staged rollout over a fleet whose node names alone would not fit a ConfigMap", () => {
  it("starts; its state stays small; the owner and a follower place every node alike", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    await t.reporter(b, "node-2");
    addHeldElsewhere(fake, COUNT);
    const nodes = async (s: typeof a) =>
      (await s.api("/api/nodes")).body.nodes as { name: string; rollout?: { wave: number } }[];
    const cfg = await eventually(
      async () => {
        const c = (await a.api("/api/config")).body;
        const all = [...(await nodes(a)), ...(await nodes(b))];
        return all.length === 2 * (COUNT + 2) && c.stagedRefusal === null ? c : undefined;
      },
      30_000,
      "every node known on both replicas, no refusal",
    );
    // 3,800 names of 207 characters: ~800 KiB of names, refused with 422 before.
    const put = await b.api("/api/config", {
      method: "PUT",
      body: { yaml: NEXT, resourceVersion: cfg.resourceVersion, strategy: STRATEGY },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const raw = await eventually(
      () => {
        const text = fake.configMap("kube-system", "ip-masq-agent-history")?.data?.["rollout.json"];
        return text && JSON.parse(text).current ? text : undefined;
      },
      10_000,
      "the owner's state persisted",
    );
    expect(Buffer.byteLength(raw)).toBeLessThan(8 * 1024);
    expect(JSON.parse(raw).current.bounds.canary).toHaveLength(3);
    const placed = async (s: typeof a) => {
      const rows = await nodes(s);
      return rows.every((r) => r.rollout) ? rows : undefined;
    };
    const [onA, onB] = await eventually(
      async () => {
        const [x, y] = [await placed(a), await placed(b)];
        return x && y ? [x, y] : undefined;
      },
      10_000,
      "every node placed on both replicas",
    );
    const wave = (rows: NonNullable<Awaited<ReturnType<typeof placed>>>) =>
      Object.fromEntries(rows.map((r) => [r.name, r.rollout!.wave]));
    expect(wave(onB)).toEqual(wave(onA));
    const sizes = [0, 1, 2].map((w) => onA.filter((r) => r.rollout!.wave === w).length);
    expect(sizes).toEqual([3, 1_898, 1_901]);
    const views = [
      (await a.api("/api/rollout")).body.rollout,
      (await b.api("/api/rollout")).body.rollout,
    ];
    for (const v of views) expect(v.waves.map((w: { total: number }) => w.total)).toEqual(sizes);
  }, 60_000);
});

describe("a canary selector matching more nodes than a rollout keeps by name", () => {
  it("is refused with 422 before anything is saved", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    await t.reporter(a, "node-1");
    addHeldElsewhere(fake, 1_000); // and node-1: 1,001 Linux Nodes
    fake.addNode("node-1");
    const cfg = await eventually(
      async () => {
        const c = (await a.api("/api/config")).body;
        const known = (await a.api("/api/nodes")).body.nodes.length;
        return known === 1_001 && c.stagedRefusal === null ? c : undefined;
      },
      30_000,
      "every node known",
    );
    const put = await a.api("/api/config", {
      method: "PUT",
      body: {
        yaml: NEXT,
        resourceVersion: cfg.resourceVersion,
        strategy: { ...STRATEGY, canary: { selector: { "kubernetes.io/os": "linux" } } },
      },
    });
    expect(put.status).toBe(422);
    expect(put.body.error).toBe(
      "a staged rollout is refused: the canary selector matches 1001 nodes, more than the 1000 a rollout keeps by name (so that every replica and a restart keep exactly the same canary). Nothing was saved; pick the canary by count or percentage",
    );
    expect((await a.api("/api/config")).body.resourceVersion).toBe(cfg.resourceVersion);
  }, 60_000);
});
