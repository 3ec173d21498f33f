// Issue 17 §2: every replica active, in process, against the test API server through the real
// client-node: each replica writes the NodeMasquerade status of the nodes it holds (only on
// change), shows the nodes others hold, asks a holder to resync through spec.resyncRequest,
// and every replica is ready while only one holds the singleton Lease; a replica that stops
// renewing its Lease leaves its nodes `unknown`, with the reason, until they reconnect.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaStarter, replicaSync } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();

const replica = replicaStarter(t);
const nm = nodeMasquerade;

/** Clients whose Lease requests fail while `cut.off` (the others go through). */
function leaseCutOff(fake: FakeKubeApi, cut: { off: boolean }) {
  const clients = kubeClients(fake.kubeConfig());
  const coordination = new Proxy(clients.coordination, {
    get(target, key) {
      const v = Reflect.get(target, key, target);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) =>
        cut.off
          ? Promise.reject(new Error("Lease write refused (test)"))
          : (v as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { ...clients, coordination };
}

/** Replicas dash-a and dash-b holding node-1 and node-2, both objects written in sync. */
async function twoInSync() {
  const fake = await t.cluster();
  const a = await replica(fake, "dash-a");
  const b = await replica(fake, "dash-b");
  await t.reporter(a, "node-1");
  await t.reporter(b, "node-2");
  await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "node-1 CR");
  await eventually(() => nm(fake, "node-2")?.status?.health === "in-sync", 10_000, "node-2 CR");
  return { fake, a, b };
}

type Replica = Awaited<ReturnType<typeof replica>>;

/**
 * dash-a's Lease stale, dash-b takes the singleton Lease and marks node-1 unknown; dash-a sees
 * the mark on its watch and its writer settles.
 */
async function markedByB(a: Pick<Replica, "setup" | "replicas">, b: Replica): Promise<void> {
  await a.setup.lease?.close();
  await eventually(() => b.replicas.writer.stats.unheld >= 1, 10_000, "node-1 marked by dash-b");
  await eventually(
    () =>
      a.replicas.objects.get("node-1")?.status?.health === "unknown" &&
      a.replicas.writer.queued === 0,
    10_000,
    "dash-a saw the mark",
  );
}

describe("every replica active", () => {
  it("writes each held node's status, shows every node on every replica, all ready", async () => {
    const { fake, a, b } = await twoInSync();
    const cr = nm(fake, "node-1");
    expect(cr.status).toMatchObject({
      replica: "dash-a",
      connected: true,
      health: "in-sync",
      appliedRevision: cr.status.desiredRevision,
      drift: { count: 0, reasons: [] },
    });
    expect(
      cr.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
    ).toEqual(["Connected=True", "InSync=True"]);
    for (const s of [a, b]) {
      const list = await eventually(async () => {
        const r = (await s.api("/api/nodes")).body;
        return r.summary.total === 2 && r.summary.byStatus["in-sync"] === 2 ? r : undefined;
      });
      expect(
        list.nodes.map((n: { name: string; heldBy?: { replica: string } }) => [
          n.name,
          n.heldBy?.replica,
        ]),
      ).toEqual(
        s === a
          ? [
              ["node-1", undefined],
              ["node-2", "dash-b"],
            ]
          : [
              ["node-1", "dash-a"],
              ["node-2", undefined],
            ],
      );
      // Ready although only one of them holds the singleton Lease.
      expect((await s.api("/readyz", { token: null })).status).toBe(200);
      // Every row carries the same facts whichever replica holds the node (kept by the CRD's
      // schema, which prunes fields it does not declare).
      const facts = list.nodes.map((n: Record<string, unknown>) => {
        const { name, os, kernel, iptablesVersion, critical, warnings, notKnownHere } = n;
        return { name, os, kernel, iptablesVersion, critical, warnings, notKnownHere };
      });
      expect(facts).toEqual(
        ["node-1", "node-2"].map((name) => ({
          name,
          os: "linux",
          kernel: "6.1.0-test",
          iptablesVersion: "v1.8.9 (nf_tables)",
          critical: 0,
          warnings: 0,
          notKnownHere: undefined,
        })),
      );
    }
    expect(cr.status.details).toMatchObject({ os: "linux", reporterVersion: "test" });
    const page = (await b.api("/api/nodes/node-1")).body;
    expect(page.view).toBeNull();
    expect(page.viewUnavailable).toMatch(/^held by replica dash-a: /);
    // How to reach the holder, by the chart's port name, and no timeline claimed as its history.
    expect(page.heldElsewhere).toEqual({
      replica: "dash-a",
      portForward: "kubectl port-forward -n kube-system pod/dash-a 8080:http",
    });
    expect(page.viewUnavailable).toContain(
      "kubectl port-forward -n kube-system pod/dash-a 8080:http",
    );
    expect(page.events).toEqual([]);
    // Its kubectl card is there too (it was a 404), ending with the way to its holder.
    const kubectl = await b.api("/api/nodes/node-1/kubectl");
    expect(kubectl.status).toBe(200);
    expect(kubectl.body.commands.at(-1).command).toBe(
      "kubectl port-forward -n kube-system pod/dash-a 8080:http",
    );
    expect((await b.api("/api/nodes/node-1/evaluate", { body: { ip: "192.0.2.1" } })).status).toBe(
      409,
    );
  });

  it("writes only on change: heartbeats and unchanged snapshots write nothing", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const r = await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "node-1 CR");
    await new Promise((res) => setTimeout(res, 600));
    const before = fake.count("PATCH", "/nodemasquerades/node-1/status");
    for (let i = 0; i < 5; i++) r.snapshot();
    await new Promise((res) => setTimeout(res, 1000));
    expect(fake.count("PATCH", "/nodemasquerades/node-1/status")).toBe(before);
    // Deleted by hand (or expiry) while held here: written again as it is.
    fake.deleteObject("nodemasquerades", "", "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "re-created");
    r.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(
      () => nm(fake, "node-1")?.status?.health === "drifted",
      10_000,
      "drift written",
    );
    expect(nm(fake, "node-1").status.drift.count).toBeGreaterThan(0);
    // The metric counts exactly the status writes the API server answered.
    const metrics = String((await a.api("/metrics")).body);
    const written = Number(
      /ipmasq_node_status_writes_total\{result="written"\} (\d+)/.exec(metrics)?.[1],
    );
    const patched = fake.requests.filter(
      (q) =>
        q.method === "PATCH" &&
        q.path.includes("/nodemasquerades/node-1/status") &&
        q.status === 200,
    ).length;
    expect(written).toBe(patched);
  });

  it("a resync clicked on one replica reaches a node held by another", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    const r = await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.connected === true, 10_000, "node-1 CR");
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.heldBy?.replica === "dash-a",
    );
    const res = await b.api("/api/nodes/node-1/resync", { method: "POST", body: {} });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ outcome: "requested", replica: "dash-a" });
    await r.waitFor((m) => m.type === "resync", 10_000);
    await eventually(
      () => nm(fake, "node-1")?.status?.resyncObserved === res.body.requestId,
      10_000,
      "resyncObserved",
    );
    const bulk = await b.api("/api/resync", { body: {} });
    expect(bulk.body).toEqual({
      nodes: ["node-1"],
      skipped: [],
      requested: [{ name: "node-1", replica: "dash-a" }],
      // Within the burst: written at once.
      requestBacklog: { waiting: 0, perSecond: 50, drainSeconds: 0 },
    });
    await r.waitFor((m) => m.type === "resync" && m.requestId !== res.body.requestId, 10_000);
  });

  it("a replica that stops renewing its Lease leaves its nodes unknown until they reconnect", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.connected === true, 10_000, "node-1 CR");
    // A stops without a word: its Lease is no longer renewed, its CR still says connected.
    await a.replicas.leases.halt();
    const gone = await eventually(
      async () => {
        const n = (await b.api("/api/nodes/node-1")).body.node;
        return n?.status === "unknown" ? n : undefined;
      },
      10_000,
      "node-1 unknown on dash-b",
    );
    expect(gone.summary).toMatch(
      /^replica dash-a stopped renewing its Lease at .*; last known: in-sync/,
    );
    // Its page neither says it is connected to dash-a nor sends anyone to dash-a's pod.
    const page = (await b.api("/api/nodes/node-1")).body;
    expect(page.heldElsewhere).toEqual({ replica: "dash-a", portForward: null });
    expect(`${page.viewUnavailable} ${page.heal.reason}`).not.toMatch(
      /connected to replica|port-forward/,
    );
    const kubectl = (await b.api("/api/nodes/node-1/kubectl")).body;
    expect(kubectl.commands.map((c: { command: string }) => c.command).join("\n")).not.toMatch(
      /port-forward/,
    );
    await t.reporter(b, "node-1");
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "in-sync",
    );
    await eventually(
      () => nm(fake, "node-1")?.status?.replica === "dash-b",
      10_000,
      "node-1 moved",
    );
  });

  it("a dead replica's nodes: the singleton holder writes their objects unknown; reconnecting elsewhere wins", async () => {
    const { fake, a, b } = await twoInSync();
    // dash-a dies without a word: no Lease renewal, no status write; node-1 never reconnects.
    // It held the singleton Lease too (started first): dash-b takes it over (released here
    // rather than left to expire, to keep the test short).
    expect(a.setup.lease?.isLeader()).toBe(true);
    await a.replicas.leases.halt();
    a.replicas.writer.close();
    await a.setup.lease?.close();
    const marked = await eventually(
      () => (nm(fake, "node-1")?.status?.health === "unknown" ? nm(fake, "node-1") : undefined),
      10_000,
      "node-1's object written unknown by dash-b",
    );
    expect(marked.status).toMatchObject({ replica: "dash-a", connected: false, health: "unknown" });
    expect(marked.status.message).toMatch(
      /^replica dash-a stopped renewing its Lease at \d{4}-\d\d-\d\dT[\d:.]+Z; last known: in-sync$/,
    );
    expect(
      marked.status.conditions.map(
        (c: { type: string; status: string }) => `${c.type}=${c.status}`,
      ),
    ).toEqual(["Connected=False", "InSync=Unknown"]);
    // The node held by the live replica is left alone; the views say unknown with the reason.
    expect(nm(fake, "node-2").status).toMatchObject({ replica: "dash-b", connected: true });
    const shown = (await b.api("/api/nodes/node-1")).body.node;
    expect(shown.status).toBe("unknown");
    expect(shown.summary).toBe(marked.status.message);
    // node-1 reconnects to dash-b: its write wins, in sync again.
    await t.reporter(b, "node-1");
    await eventually(
      () =>
        nm(fake, "node-1")?.status?.replica === "dash-b" &&
        nm(fake, "node-1")?.status?.health === "in-sync",
      10_000,
      "node-1 in sync on dash-b",
    );
    expect(nm(fake, "node-1").status.connected).toBe(true);
    expect(b.replicas.writer.stats.unheld).toBe(1);
  });

  // Issue 17: dash-a is alive and holds node-1, but its Lease writes stop (its status writes
  // still go through). The singleton holder, dash-b, writes node-1 unknown as a dead holder's;
  // dash-a wrote its own status back over it at once, dash-b marked it again at its next sweep:
  // the two alternated writes of one object for as long as it lasted.
  it("a replica whose Lease writes fail, its other writes not: it does not write back over the singleton's mark", async () => {
    const { fake, a, b } = await twoInSync();
    await a.replicas.leases.halt(); // its Lease no longer written; its writer goes on
    await markedByB(a, b);
    await eventually(() => b.replicas.objects.get("node-1")?.status?.health === "unknown");
    expect(nm(fake, "node-1").status).toMatchObject({ replica: "dash-a", health: "unknown" });
    expect(b.replicas.writer.stats.unheld).toBe(1);
  });

  // Issue 17: dash-a holds node-1 but its Lease writes fail (its status writes do not). A status
  // change of node-1 meanwhile was written at once (the others take no word of a replica whose
  // Lease is stale, and the singleton marked it unknown again at its next sweep), then again once
  // the Lease was renewed: two writes of one change, and a third by the singleton between them.
  it("a replica whose Lease is stale writes a node's ordinary status change once, when renewed", async () => {
    const fake = await t.cluster();
    const cut = { off: false };
    const replicas = replicaSync(fake, "dash-a", { clients: leaseCutOff(fake, cut) });
    const a = Object.assign(await t.start({ POD_NAME: "dash-a" }, { replicas }), { replicas });
    const b = await replica(fake, "dash-b");
    const sim = await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "node-1 CR");
    cut.off = true;
    await markedByB(a, b);
    /** dash-a's status writes of node-1 at the API server: all of them but dash-b's marks. */
    const writesByA = () =>
      fake.count("PATCH", "/nodemasquerades/node-1/status") - b.replicas.writer.stats.unheld;
    const before = writesByA();
    sim.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(
      async () => (await a.api("/api/nodes/node-1")).body.node.status === "drifted",
      10_000,
      "dash-a judged the drift",
    );
    await new Promise((r) => setTimeout(r, 2500)); // several sweeps of both, the Lease stale
    expect(nm(fake, "node-1").status).toMatchObject({ replica: "dash-a", health: "unknown" });
    cut.off = false;
    await eventually(
      () => nm(fake, "node-1")?.status?.health === "drifted",
      10_000,
      "the drift written once renewed",
    );
    await new Promise((r) => setTimeout(r, 2500)); // several sweeps more
    expect(writesByA() - before).toBe(1);
    expect(nm(fake, "node-1").status).toMatchObject({
      replica: "dash-a",
      connected: true,
      health: "drifted",
    });
  });

  it("ipmasq_nodes is the whole fleet on every replica: a node that moved is not offline on the one it left", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    const first = await t.reporter(a, "node-1");
    await t.reporter(b, "node-2");
    await eventually(() => nm(fake, "node-1")?.status?.connected === true, 10_000, "node-1 CR");
    await first.close();
    await t.reporter(b, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.replica === "dash-b", 10_000, "moved");
    const gauge = (text: string, status: string) =>
      Number(new RegExp(`ipmasq_nodes\\{status="${status}"\\} (\\d+)`).exec(text)?.[1]);
    for (const s of [a, b])
      await eventually(
        async () => {
          const m = String((await s.api("/metrics")).body);
          return gauge(m, "in-sync") === 2 && gauge(m, "offline") === 0;
        },
        10_000,
        `${s === a ? "dash-a" : "dash-b"}: 2 in sync, none offline`,
      );
  });

  it("deletes the NodeMasquerade of a node gone from the cluster, on the singleton Lease holder", async () => {
    const fake = await t.cluster();
    await replica(fake, "dash-a");
    const object = (name: string) => ({
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name },
      spec: {},
      status: {
        replica: "dash-gone",
        connected: false,
        health: "offline",
        observedAt: `${new Date().toISOString().slice(0, 19)}Z`,
      },
    });
    fake.addNode("node-kept");
    fake.apply(object("node-kept"));
    fake.apply(object("node-deleted"));
    await eventually(() => !nm(fake, "node-deleted"), 10_000, "the deleted node's object gone");
    expect(nm(fake, "node-kept")).toBeDefined();
  });
});

describe("a bulk resync of nodes held by another replica", () => {
  const slow = replicaStarter(t, { statusWritesPerSecond: 2 });

  it("is written through the replica's rate limit, saying how many wait and for how long", async () => {
    const fake = await t.cluster();
    const a = await slow(fake, "dash-a");
    const b = await slow(fake, "dash-b");
    const names = ["n-1", "n-2", "n-3", "n-4", "n-5", "n-6"];
    const sims = await Promise.all(names.map((n) => t.reporter(a, n)));
    await eventually(
      async () => (await b.api("/api/nodes")).body.summary?.total === names.length,
      20_000,
      "dash-b sees every node",
    );
    const asked = (q: { method: string; path: string }) =>
      q.method === "PATCH" && /\/nodemasquerades\/n-\d$/.test(q.path);
    const before = fake.requests.filter(asked).length;
    const bulk = await b.api("/api/resync", { body: {} });
    expect(bulk.status).toBe(202);
    expect(bulk.body.requested).toHaveLength(names.length);
    // 2 a second, burst 2: two written at once, four wait two seconds.
    expect(bulk.body.requestBacklog).toEqual({ waiting: 4, perSecond: 2, drainSeconds: 2 });
    for (const s of sims) await s.waitFor((m) => m.type === "resync", 10_000);
    const writes = fake.requests.filter(asked).slice(before);
    expect(writes).toHaveLength(names.length);
    // Never more than the burst plus the rate over the time they took.
    const spanS = (writes.at(-1)!.at - writes[0]!.at) / 1000;
    expect(spanS).toBeGreaterThanOrEqual(1.5);
    expect(writes.length).toBeLessThanOrEqual(2 + 2 * spanS + 1);
    const metrics = String((await b.api("/metrics")).body);
    expect(metrics).toMatch(/ipmasq_resync_requests_total\{result="written"\} 6\b/);
    expect(metrics).toMatch(/ipmasq_resync_requests_queue 0\b/);
    expect(metrics).toMatch(/ipmasq_node_status_reconnects_pending 0\b/);
  });

  it("restarts an observe-mode node's upstream agent pod from the replica clicked, through the same queue", async () => {
    const fake = await t.cluster({ chart: { set: ["dashboard.observeResync=true"] } });
    const a = await slow(fake, "dash-a");
    const b = await slow(fake, "dash-b");
    fake.addPod("kube-system", "ip-masq-agent-obs", "obs-1", { "k8s-app": "ip-masq-agent" });
    const sim = await t.reporter(a, "obs-1", { mode: "observe" });
    await eventually(
      async () => (await b.api("/api/nodes/obs-1")).body.node?.heldBy?.replica === "dash-a",
      20_000,
      "dash-b sees obs-1 held by dash-a",
    );
    const bulk = await b.api("/api/resync", { body: {} });
    expect(bulk.status).toBe(202);
    expect(bulk.body).toMatchObject({
      nodes: ["obs-1"],
      skipped: [],
      requested: [{ name: "obs-1", replica: "dash-b" }],
    });
    await eventually(
      () => fake.pod("kube-system", "ip-masq-agent-obs")?.metadata.deletionTimestamp !== undefined,
      5_000,
      "the upstream agent pod deleted",
    );
    expect(fake.count("DELETE", "/pods/")).toBe(1);
    // Observe mode: the reporter is never told to re-apply.
    expect(sim.received.some((m: { type: string }) => m.type === "resync")).toBe(false);
  });
});
