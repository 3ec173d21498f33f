// GET /api/events: a hello with the full list first, then coalesced changes only.
import { describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import {
  eventually,
  perTest,
  reporterInSync,
  reporterToken,
  startServer,
  TOKENS,
} from "./helpers/server.js";
import { followEvents, type SseEvent } from "./helpers/sse.js";

const t = perTest();

/** Reads an SSE stream into a list until stopped. */
function listen(url: string, token: string): { events: SseEvent[]; stop: () => void } {
  const events: SseEvent[] = [];
  const ac = new AbortController();
  followEvents(url, token, (e) => events.push(e), ac.signal);
  return { events, stop: () => ac.abort() };
}

describe("live events", () => {
  it("sends hello first, then config, fleet and rollout changes", async () => {
    t.server = await startServer();
    t.sims.push(
      await SimReporter.connect({
        url: t.server.url,
        token: reporterToken("node-a"),
        node: "node-a",
      }),
    );
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-a")).body.node.status === "in-sync",
      3000,
    );
    const l = listen(t.server.url, TOKENS.viewer);
    const hello = await eventually(() => l.events[0], 10_000);
    expect(hello.event).toBe("hello");
    expect(hello.data.nodes).toEqual([
      expect.objectContaining({ name: "node-a", status: "in-sync" }),
    ]);
    expect(hello.data.summary).toMatchObject({ total: 1, resourceVersion: "1", revision: 1 });

    await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: "1" },
    });
    const config = await eventually(() => l.events.find((e) => e.event === "config"), 10_000);
    expect(config.data).toEqual({
      resourceVersion: "2",
      revision: 2,
      desiredRevision: 2,
      valid: true,
    });
    const done = await eventually(
      () => l.events.find((e) => e.event === "rollout" && e.data.finishedAt !== null),
      10_000,
    );
    expect(done.data).toMatchObject({ revision: 2, total: 1, done: 1 });
    const fleet = l.events.filter((e) => e.event === "fleet");
    expect(fleet.length).toBeGreaterThan(0);
    expect(fleet.at(-1)!.data.nodes).toEqual([
      expect.objectContaining({ name: "node-a", appliedRevision: 2 }),
    ]);
    l.stop();
  });

  it("coalesces a burst of 200 node changes into a few events carrying only changed nodes", async () => {
    t.server = await startServer();
    const quiet = await reporterInSync(t.server, "node-quiet");
    t.sims.push(quiet);
    await new Promise((r) => setTimeout(r, 300)); // let its last change flush before listening
    const l = listen(t.server.url, TOKENS.admin);
    await eventually(() => l.events[0], 10_000);
    const burst = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        SimReporter.connect({
          url: t.server!.url,
          token: reporterToken(`node-${i}`),
          node: `node-${i}`,
        }),
      ),
    );
    t.sims.push(...burst);
    await eventually(
      async () => (await t.server!.api("/api/nodes?status=in-sync")).body.nodes.length === 201,
      5000,
    );
    await new Promise((r) => setTimeout(r, 400));
    const fleet = l.events.filter((e) => e.event === "fleet");
    const names = new Set(fleet.flatMap((e) => e.data.nodes.map((n: { name: string }) => n.name)));
    expect(names.size).toBe(200);
    expect(names.has("node-quiet")).toBe(false);
    // At most one event per 250 ms (plus the immediate first one).
    const span = fleet.at(-1)!.at - fleet[0]!.at;
    expect(fleet.length).toBeLessThanOrEqual(Math.ceil(span / 250) + 2);
    expect(fleet.length).toBeLessThan(40);
    l.stop();
  });
});
