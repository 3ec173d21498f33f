// One reporter flooding distinct large snapshots (issue 12, item 1) cannot take the dashboard:
// its connection is paused past its budget, only its newest snapshot is judged, the
// assessment cache stays within its byte budget, and other nodes are served meanwhile.
// (The memory and latency targets are measured by apps/dashboard/bench/flood.bench.ts.)
import { largeChainSnapshot } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { ASSESSMENT_CACHE_BYTES } from "../src/server/fleet/assess-node.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

describe("a reporter flooding distinct large snapshots", () => {
  it("is paused and coalesced, the cache stays bounded, and other nodes are served", async () => {
    t.server = await startServer();
    const quiet = await t.connect("node-quiet");
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-quiet")).body.node.status === "in-sync",
      5000,
    );
    const flood = await t.connect("node-flood");
    for (let seq = 0; seq < 60; seq++) flood.send(largeChainSnapshot(seq));
    const last = 1000;
    flood.send(largeChainSnapshot(last));
    // Meanwhile: the probes answer and another node's hand edit is seen.
    expect((await t.server.api("/healthz", { token: null })).status).toBe(200);
    quiet.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-quiet")).body.node.status === "drifted",
      10_000,
      "the quiet node's drift",
    );
    // The newest snapshot is the one the node shows, once its turn comes.
    await eventually(
      async () => {
        const d = (await t.server!.api("/api/nodes/node-flood")).body;
        const rows: { actual?: { text: string } }[] = d.view?.families?.[0]?.rows ?? [];
        return rows.some((r) => r.actual?.text.endsWith(`.${last % 256}/32 -j RETURN`));
      },
      30_000,
      "the flooding node's newest snapshot",
    );
    const m = (await t.server.api("/metrics", { token: null })).body as string;
    expect(metric(m, "ipmasq_reporter_paused_total")).toBeGreaterThan(0);
    expect(metric(m, "ipmasq_snapshots_coalesced_total")).toBeGreaterThan(0);
    const cache = metric(m, "ipmasq_assessment_cache_bytes");
    expect(cache).toBeGreaterThan(0);
    expect(cache).toBeLessThanOrEqual(ASSESSMENT_CACHE_BYTES);
  }, 60_000);
});
