// Node records are bounded (issue 12, item 8): offline nodes expire, and GET /api/nodes pages
// for large fleets like a Kubernetes list (limit / continue).

import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();

describe("offline node expiry", () => {
  it("forgets a node offline longer than the TTL and keeps connected ones", async () => {
    t.server = await startServer({ expiry: { offlineTtlMs: 1000 } });
    await t.connect("node-live");
    const gone = await t.connect("node-gone");
    await gone.close();
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-gone")).body.node?.status === "offline",
      5000,
    );
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-gone")).status === 404,
      5000,
    );
    const list = (await t.server.api("/api/nodes")).body;
    expect(list.nodes.map((n: { name: string }) => n.name)).toEqual(["node-live"]);
    expect(list.summary.total).toBe(1);
  });
});

describe("offline node expiry in Kubernetes mode", () => {
  const k = kubeTestCluster();
  const SWEEP_MS = 1000; // the server's sweeper runs every second
  const LOOKUP_EVERY_MS = 1000;

  it("keeps an offline node while its Node object exists and forgets it within one lookup once the Node is deleted", async () => {
    const fake = await k.cluster();
    fake.addNode("node-a");
    // The offline TTL stays the chart's (24 h): only the Node lookup can forget the node here.
    // One replica's own records (with every replica active, the NodeMasquerade of a deleted
    // node is removed by the singleton holder: kube-replicas.test.ts).
    const kube = await k.start(
      { IPMASQ_REPLICA_SYNC: "false" },
      { expiry: { offlineTtlMs: 24 * 3600_000, existsEveryMs: LOOKUP_EVERY_MS } },
    );
    const r = await k.reporter(kube, "node-a");
    await r.close();
    await eventually(
      async () => (await kube.api("/api/nodes/node-a")).body.node?.status === "offline",
      5000,
      "node-a offline",
    );
    const lookups = () =>
      fake.requests.filter((q) => q.method === "GET" && q.path === "/api/v1/nodes/node-a");
    await eventually(() => lookups().length >= 2, 10_000, "two lookups of the Node object");
    expect(lookups().every((q) => q.status === 200)).toBe(true);
    expect((await kube.api("/api/nodes/node-a")).body.node?.status).toBe("offline");

    fake.deleteNode("node-a");
    const seen = lookups().length;
    // The next lookup (at most one interval and one sweep away) finds it gone.
    await eventually(
      async () => (await kube.api("/api/nodes/node-a")).status === 404,
      LOOKUP_EVERY_MS + 2 * SWEEP_MS + 2000,
      "node-a forgotten",
    );
    expect(
      lookups()
        .slice(seen)
        .map((q) => q.status),
    ).toEqual([404]);
  });
});

describe("GET /api/nodes paging", () => {
  it("pages with limit and continue, each node once, in name order", async () => {
    t.server = await startServer();
    const names = Array.from({ length: 7 }, (_, i) => `node-${i}`);
    await Promise.all(names.map((n) => t.connect(n)));
    const seen: string[] = [];
    const remaining: number[] = [];
    let cont: string | undefined;
    for (let i = 0; i < 10; i++) {
      const q = `limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`;
      const page = (await t.server.api(`/api/nodes?${q}`)).body;
      expect(page.nodes.length).toBeLessThanOrEqual(3);
      expect(page.summary.total).toBe(7);
      seen.push(...page.nodes.map((n: { name: string }) => n.name));
      cont = page.continue;
      if (!cont) break;
      remaining.push(page.remainingItemCount);
    }
    expect(seen).toEqual(names);
    expect(remaining).toEqual([4, 1]);
    expect((await t.server.api("/api/nodes")).body.nodes).toHaveLength(7);
    const bad = await t.server.api("/api/nodes?limit=3&continue=not-ours");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/not a cursor/);
  });
});
