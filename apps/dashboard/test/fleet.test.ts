// The behaviour targets of issue 4 against the real server and protocol-level reporters:
// save → applied everywhere within 2 s, hand edit → drifted within 2 s, resync heals within
// 2 s, restart → reporters back in sync with no config lost.
import { describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

const t = perTest();

async function connect(
  name: string,
  extra: Partial<Parameters<typeof SimReporter.connect>[0]> = {},
): Promise<SimReporter> {
  const r = await SimReporter.connect({
    url: t.server!.url,
    token: reporterToken(name),
    node: name,
    ...extra,
  });
  t.sims.push(r);
  return r;
}

async function nodeStatus(name: string): Promise<string | undefined> {
  const r = await t.server!.api(`/api/nodes/${name}`);
  return r.status === 200 ? r.body.node.status : undefined;
}

describe("fleet", () => {
  it("brings new reporters in sync, rolls a saved config out to every enforce node within 2 s", async () => {
    t.server = await startServer();
    const nodes = await Promise.all(["node-a", "node-b", "node-c"].map((n) => connect(n)));
    const observer = await connect("node-obs", { mode: "observe" });
    await eventually(
      async () =>
        (await Promise.all(["node-a", "node-b", "node-c"].map(nodeStatus))).every(
          (s) => s === "in-sync",
        ),
      3000,
      "initial sync",
    );

    const cfg = await t.server.api("/api/config");
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        config: { ...cfg.body.config, nonMasqueradeCIDRs: ["10.0.0.0/8", "100.64.0.0/10"] },
        resourceVersion: cfg.body.resourceVersion,
      },
    });
    expect(put.status).toBe(200);
    const revision = put.body.revision;
    expect(revision).toBe(cfg.body.revision + 1);

    const rollout = await eventually(
      async () => {
        const r = (await t.server!.api("/api/nodes")).body.summary.rollout;
        return r && r.revision === revision && r.finishedAt !== null ? r : undefined;
      },
      10_000,
      "rollout",
    );
    expect(rollout).toMatchObject({ total: 3, done: 3, pending: 0, failed: 0 });
    for (const n of nodes) {
      expect(n.appliedRevision).toBe(revision);
      expect(n.families[0]!.chain!.join("\n")).toContain("100.64.0.0/10");
    }
    // Observe-mode nodes are never asked to apply, but are judged against the new config.
    expect(observer.received.some((m) => m.type === "desired")).toBe(false);
    expect(await nodeStatus("node-obs")).toBe("drifted");
    const list = (await t.server.api("/api/nodes")).body;
    expect(list.summary.byStatus).toMatchObject({ "in-sync": 3, drifted: 1 });
  });

  it("shows a hand edit as drifted within 2 s and heals it with resync", async () => {
    t.server = await startServer();
    const node = await connect("node-a");
    await eventually(async () => (await nodeStatus("node-a")) === "in-sync", 3000, "initial sync");

    node.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(async () => (await nodeStatus("node-a")) === "drifted", 10_000, "drift");
    const detail = (await t.server.api("/api/nodes/node-a")).body;
    expect(detail.view.report.differences).toContainEqual(
      expect.objectContaining({ kind: "missing-cidr", cidr: "10.0.0.0/8" }),
    );
    expect(detail.node.summary).toContain("10.0.0.0/8");
    const ev = await t.server.api("/api/nodes/node-a/evaluate", { body: { ip: "10.1.2.3" } });
    expect(ev.body.desired.masqueraded).toBe(false);
    expect(ev.body.actual.masqueraded).toBe(true);

    const rs = await t.server.api("/api/nodes/node-a/resync", { method: "POST" });
    expect(rs.status).toBe(202);
    expect(rs.body.requestId).toMatch(/[0-9a-f-]{36}/);
    await eventually(async () => (await nodeStatus("node-a")) === "in-sync", 10_000, "heal");
  });

  it("resyncs all drifted nodes in bulk and refuses offline or observe-mode nodes clearly", async () => {
    t.server = await startServer();
    const a = await connect("node-a");
    await connect("node-b");
    const obs = await connect("node-obs", { mode: "observe" });
    await eventually(async () => (await nodeStatus("node-b")) === "in-sync", 3000);
    a.handEdit((chain) => chain.filter((l) => !l.includes("192.168.0.0/16")));
    await eventually(async () => (await nodeStatus("node-a")) === "drifted", 10_000);
    // Before the click, the server says what it will do: resync node-a, skip node-obs, and why.
    const list = (await t.server.api("/api/nodes")).body;
    expect(list.summary.driftedResync).toEqual({
      resyncable: 1,
      skipped: [
        { reason: expect.stringMatching(/observe mode.*IPMASQ_OBSERVE_RESYNC is off/), count: 1 },
      ],
      cannotHeal: [],
    });
    const rows = Object.fromEntries(
      list.nodes.map((n: { name: string; resyncUnavailable?: string }) => [
        n.name,
        n.resyncUnavailable,
      ]),
    );
    expect(rows).toEqual({
      "node-a": undefined,
      "node-b": undefined,
      "node-obs": expect.stringMatching(/^observe mode/),
    });
    expect((await t.server.api("/api/nodes/node-obs")).body.node.resyncUnavailable).toBe(
      rows["node-obs"],
    );
    const bulk = await t.server.api("/api/resync", { body: { status: "drifted" } });
    expect(bulk.status).toBe(202);
    // node-obs is drifted too (no rules) but observe mode cannot be resynced without IPMASQ_OBSERVE_RESYNC.
    expect(bulk.body.nodes).toEqual(["node-a"]);
    expect(bulk.body.skipped).toContainEqual(expect.objectContaining({ name: "node-obs" }));
    await eventually(async () => (await nodeStatus("node-a")) === "in-sync", 10_000);

    const one = await t.server.api("/api/nodes/node-obs/resync", { method: "POST" });
    expect(one.status).toBe(409);
    expect(one.body.error).toMatch(/observe mode.*IPMASQ_OBSERVE_RESYNC/);

    await obs.close();
    await eventually(async () => (await nodeStatus("node-obs")) === "offline", 10_000);
    expect((await t.server.api("/api/nodes/node-obs")).body.node.resyncUnavailable).toBe(
      "the node is offline",
    );
    expect((await t.server.api("/api/nodes/node-obs/resync", { method: "POST" })).status).toBe(409);
    expect((await t.server.api("/api/nodes/ghost/resync", { method: "POST" })).status).toBe(404);
    // An offline node stays listed (with last seen) until removed.
    const listed = (await t.server.api("/api/nodes?status=offline")).body.nodes;
    expect(listed).toEqual([
      expect.objectContaining({
        name: "node-obs",
        connected: false,
        liveness: "offline",
        lastSeenAt: expect.any(Number),
      }),
    ]);
    expect((await t.server.api("/api/nodes/node-obs", { method: "DELETE" })).status).toBe(200);
    expect((await t.server.api("/api/nodes/node-obs")).status).toBe(404);
  });

  it("marks failed applies as error and counts them as failed in the rollout", async () => {
    t.server = await startServer();
    await connect("node-ok");
    await connect("node-bad", { failApplies: "iptables-restore: line 3 failed" });
    await eventually(async () => (await nodeStatus("node-bad")) === "error", 3000);
    const cfg = (await t.server.api("/api/config")).body;
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(put.status).toBe(200);
    const rollout = await eventually(async () => {
      const r = (await t.server!.api("/api/nodes")).body.summary.rollout;
      return r?.revision === put.body.revision && r.finishedAt !== null ? r : undefined;
    }, 10_000);
    expect(rollout).toMatchObject({ total: 2, done: 1, failed: 1, pending: 0 });
    const bad = (await t.server.api("/api/nodes/node-bad")).body;
    expect(bad.node.summary).toContain("iptables-restore: line 3 failed");
    expect(bad.events.map((e: { kind: string }) => e.kind)).toContain("apply-failed");
  });

  it("keeps every saved config across a restart and gets reporters back in sync", async () => {
    t.server = await startServer();
    const cfg = (await t.server.api("/api/config")).body;
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs:\n  - 10.0.0.0/8\n  - 203.0.113.0/24\n",
        resourceVersion: cfg.resourceVersion,
        message: "add docs range",
      },
    });
    expect(put.status).toBe(200);
    const dataDir = t.server.dataDir;
    await t.server.stop();

    t.server = await startServer({ dataDir });
    const now = (await t.server.api("/api/config")).body;
    expect(now.resourceVersion).toBe(put.body.resourceVersion);
    expect(now.revision).toBe(put.body.revision);
    expect(now.config.nonMasqueradeCIDRs).toEqual(["10.0.0.0/8", "203.0.113.0/24"]);
    expect(now.message).toBe("add docs range");
    const hist = (await t.server.api("/api/history")).body.revisions;
    expect(hist.map((h: { resourceVersion: string }) => h.resourceVersion)).toEqual([
      put.body.resourceVersion,
      cfg.resourceVersion,
    ]);

    const node = await connect("node-a");
    await eventually(async () => (await nodeStatus("node-a")) === "in-sync", 10_000);
    expect(node.appliedRevision).toBe(put.body.revision);
  });

  it("judges Windows nodes by their OutBoundNAT exception list", async () => {
    t.server = await startServer();
    const win = await connect("win-a", { os: "windows" });
    await eventually(async () => (await nodeStatus("win-a")) === "in-sync", 3000, "windows sync");
    const detail = (await t.server.api("/api/nodes/win-a")).body;
    expect(detail.node).toMatchObject({ os: "windows", backend: "cni" });
    expect(detail.view).toMatchObject({ os: "windows", path: "C:/k/cni/config/10-bridge.conf" });
    expect(detail.view.desired).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "169.254.0.0/16",
    ]);
    expect(detail.view.lists[0].entries).toEqual(
      detail.view.desired.map((cidr: string) => ({ cidr, state: "same" })),
    );
    win.exceptions = ["10.0.0.0/8"];
    win.snapshot();
    await eventually(
      async () => (await nodeStatus("win-a")) === "drifted",
      10_000,
      "windows drift",
    );
    expect(
      (await t.server.api("/api/nodes/win-a/evaluate", { body: { ip: "10.0.0.1" } })).status,
    ).toBe(400);
  });
});
