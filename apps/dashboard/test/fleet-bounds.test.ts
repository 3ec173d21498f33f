// Node records are bounded (issue 12, item 8): offline nodes expire, and GET /api/nodes pages
// for large fleets like a Kubernetes list (limit / continue).

import { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { startKubeServer } from "./helpers/kube-server.js";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, startServer, TOKENS } from "./helpers/server.js";

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
  it("forgets an offline node whose Node object is gone, without waiting for the TTL", async () => {
    const fake = await new FakeKubeApi({ chart: {} }).start();
    fake.addToken(
      "node-a-token",
      {
        username: fake.chart!.reporterUser,
        extra: { "authentication.kubernetes.io/node-name": ["node-a"] },
      },
      ["ipmasq-dashboard"],
    );
    const kube = await startKubeServer(fake, { IPMASQ_ADMIN_TOKEN: TOKENS.admin });
    try {
      const r = await SimReporter.connect({ url: kube.url, token: "node-a-token", node: "node-a" });
      await r.close();
      // The fake API server has no Node objects: GET /api/v1/nodes/node-a answers 404.
      await eventually(async () => (await kube.api("/api/nodes/node-a")).status === 404, 5000);
      expect(fake.requests.some((q: { path: string }) => q.path === "/api/v1/nodes/node-a")).toBe(
        true,
      );
    } finally {
      await kube.stop();
      await fake.stop();
    }
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
