// GET /api/events: a hello with the full list first, then coalesced changes only.
import { sha256 } from "@masq/node-util";
import {
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  encodeMessage,
  jumpRuleLine,
  linuxRulesDigest,
  type NodeSummary,
  snapshotOf,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import { okResult } from "../src/server/fleet/post-apply.fixture.js";
import { handReporter } from "./helpers/hand-reporter.js";
import { SimReporter } from "./helpers/reporter-client.js";
import {
  eventually,
  perTest,
  reporterInSync,
  reporterToken,
  saveYaml,
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
      abortedRevision: null,
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

// Issue 17: a pushed node's judgement is put off until read, its row saying "severity ?". The
// node page's read judges it; the row must hear of it then, not at the node's next change.
describe("a judgement put off at a push and forced by a read", () => {
  it("refreshes the node's row for browsers when the node page judges it", async () => {
    t.server = await startServer();
    const r = await handReporter(t.server.url, reporterToken("node-r"), "node-r");
    t.defer(() => r.ws.terminate());
    await eventually(() => r.desired.includes(1));
    // It runs revision 1's rules (the defaults), then is pushed revision 2 and never answers.
    const d = desiredChain(defaultConfig(), DEFAULT_FLAGS, "ipv4");
    const chain = [`-N ${d.chain}`, ...d.rules.map((x) => x.line)];
    const linux = [snapshotOf({ family: "ipv4", chain, postrouting: [jumpRuleLine(d.chain)] })];
    const linuxDigest = linuxRulesDigest(linux, (x) => sha256(x));
    r.ws.send(encodeMessage({ ...r.envelope(1), seq: 1, linux, linuxDigest } as never));
    r.ws.send(encodeMessage(okResult(1, "desired", false)));
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-r")).body.node.status === "in-sync",
    );
    const l = listen(t.server.url, TOKENS.viewer);
    t.defer(l.stop);
    await eventually(() => l.events[0]);
    expect((await saveYaml(t.server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n")).status).toBe(200);
    await eventually(() => r.desired.includes(2));
    const rowOf = (e: SseEvent) =>
      e.event === "fleet" ? e.data.nodes.find((n: NodeSummary) => n.name === "node-r") : undefined;
    const putOff = await eventually(() =>
      l.events.map(rowOf).find((n) => n?.notKnownHere?.fields.includes("severity")),
    );
    expect(putOff.status).toBe("applying");
    const seen = l.events.length;

    const page = (await t.server.api("/api/nodes/node-r")).body.node;
    expect(page.notKnownHere).toBeUndefined();
    expect(page.critical + page.warnings).toBeGreaterThan(0);
    const row = await eventually(() => l.events.slice(seen).map(rowOf).find(Boolean), 5000);
    expect(row.notKnownHere).toBeUndefined();
    expect({ critical: row.critical, warnings: row.warnings }).toEqual({
      critical: page.critical,
      warnings: page.warnings,
    });
  });
});
