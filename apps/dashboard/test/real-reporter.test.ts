// The behaviour targets with the real reporter (apps/reporter: agent, enforcer, link) over its
// in-memory backend. The network-namespace version with real iptables is the end-to-end suite.
import { createAgent } from "@masq/reporter/agent";
import { createMemoryBackend, type MemoryBackend } from "@masq/reporter/backend/memory";
import { DEFAULT_FLAGS, type HealPolicy, REPORTER_PATH } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

type Agent = ReturnType<typeof createAgent>;
const t = perTest();

async function startAgent(
  name: string,
  url: string,
  heal: HealPolicy = "next-resync",
): Promise<{ agent: Agent; backend: MemoryBackend }> {
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  const agent = createAgent({
    nodeName: name,
    backend,
    heal,
    dashboard: {
      url: url.replace(/^http/, "ws") + REPORTER_PATH,
      token: reporterToken(name),
      link: { backoff: { initialMs: 200, maxMs: 1000 } },
    },
  });
  await agent.start();
  t.defer(() => agent.stop());
  return { agent, backend };
}

async function status(name: string): Promise<string | undefined> {
  const r = await t.server!.api(`/api/nodes/${name}`);
  return r.status === 200 ? r.body.node.status : undefined;
}

describe("with the real reporter agent", () => {
  it("applies saves within 2 s, shows hand edits as drift within 2 s and heals them on resync", async () => {
    t.server = await startServer();
    const { agent, backend } = await startAgent("node-a", t.server.url);
    await eventually(async () => (await status("node-a")) === "in-sync", 5000, "first sync");

    const cfg = (await t.server.api("/api/config")).body;
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n",
        resourceVersion: cfg.resourceVersion,
      },
    });
    expect(put.status).toBe(200);
    await eventually(
      async () =>
        (await t.server!.api("/api/nodes/node-a")).body.node.appliedRevision ===
          put.body.revision && (await status("node-a")) === "in-sync",
      10_000,
      "rollout",
    );
    expect(agent.status().appliedRevision).toBe(put.body.revision);
    expect(backend.state().chain?.join("\n")).toContain("100.64.0.0/10");

    backend.edit("ipv4", (s) => {
      s.chain = s.chain?.filter((l) => !l.includes("100.64.0.0/10")) ?? null;
    });
    await eventually(async () => (await status("node-a")) === "drifted", 10_000, "drift");

    expect((await t.server.api("/api/nodes/node-a/resync", { method: "POST" })).status).toBe(202);
    await eventually(async () => (await status("node-a")) === "in-sync", 10_000, "heal");
    expect(backend.state().chain?.join("\n")).toContain("100.64.0.0/10");
  });

  it("tells the dashboard its heal policy and when it resyncs next", async () => {
    t.server = await startServer();
    await startAgent("node-a", t.server.url);
    await startAgent("node-b", t.server.url, "immediate");
    for (const n of ["node-a", "node-b"])
      await eventually(async () => (await status(n)) === "in-sync", 5000, n);
    const heal = async (n: string) => (await t.server!.api(`/api/nodes/${n}`)).body;
    for (const [n, policy] of [
      ["node-a", "next-resync"],
      ["node-b", "immediate"],
    ] as const) {
      const d = await heal(n);
      // The default resyncInterval (60 s), timed from when the reporter adopted the config.
      expect(d.heal).toMatchObject({ kind: "periodic", heal: policy, intervalMs: 60_000 });
      expect(d.heal.nextResyncAt - d.serverTime).toBeGreaterThan(50_000);
      expect(d.heal.nextResyncAt - d.serverTime).toBeLessThanOrEqual(60_000);
    }
  });

  it("gets reporters back in sync within 10 s after a dashboard restart, losing no config", async () => {
    t.server = await startServer();
    const { port, dataDir } = t.server;
    await startAgent("node-a", t.server.url);
    await startAgent("node-b", t.server.url);
    await eventually(
      async () => (await t.server!.api("/api/nodes?status=in-sync")).body.nodes.length === 2,
      5000,
    );
    const cfg = (await t.server.api("/api/config")).body;
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    await t.server.stop();

    t.server = await startServer({ dataDir, port });
    expect((await t.server.api("/api/config")).body).toMatchObject({
      resourceVersion: put.body.resourceVersion,
      revision: put.body.revision,
    });
    await eventually(
      async () => {
        const nodes = (await t.server!.api("/api/nodes?status=in-sync")).body.nodes as {
          appliedRevision: number;
        }[];
        return nodes.length === 2 && nodes.every((n) => n.appliedRevision === put.body.revision);
      },
      10_000,
      "reconnect",
    );
  });
});
