// A real `ipmasq run` reporter on real iptables in a network namespace, a real file-store
// dashboard restarted (an upgrade): the node's drift, seen before the restart, is still on its
// timeline afterwards, marked as from before, once, in order before the restart's own event.
// Before, the timeline lived in memory only and began again at every start.
import type { NodeEvent } from "@masq/shared";
import { inNetns } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";
import { saveYaml } from "./helpers/server.js";

let fleet: NetnsFleet | undefined;
afterEach(async () => {
  await fleet?.close(); // its data dir with it
  fleet = undefined;
});

/** The node's timeline, oldest first (the API gives it newest first). */
const timeline = async (f: NetnsFleet, name: string): Promise<NodeEvent[]> =>
  [...((await f.server.api(`/api/nodes/${name}`)).body.events ?? [])].reverse();
const DRIFTED = /^in-sync → drifted: /;

describe("a node's events across a dashboard restart (file store)", () => {
  it("keeps its drift from before the restart on its timeline, marked, once", async () => {
    // The default dashboard: the file store in the fleet's temp dir, the same at each start.
    const f = await startNetnsFleet([{ tag: "k" }]);
    fleet = f;
    const node = f.nodes[0]!;
    // No resync for the test's length: the drift stays until the restart.
    const put = await saveYaml(f.server, "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 1h\n");
    expect(put.status).toBe(200);
    await until(async () => (await f.status(node.name)) === "in-sync", 20_000, 50, "in sync");
    inNetns(node.netns, ["iptables", "-w", "-t", "nat", "-D", "IP-MASQ-AGENT", "1"]);
    await until(async () => (await f.status(node.name)) === "drifted", 20_000, 50, "drifted");
    const drift = (await timeline(f, node.name)).find(
      (e) => e.kind === "status" && DRIFTED.test(e.message),
    );
    expect(drift).toBeDefined();

    // An upgrade: a clean stop (it writes node-events.json), a start on the same data dir.
    await f.stopDashboard();
    await f.startDashboard();
    await until(
      async () => (await f.server.api(`/api/nodes/${node.name}`)).body.node?.connected === true,
      20_000,
      100,
      "reconnected",
    );
    const after = await timeline(f, node.name);
    const was = after.findIndex((e) => e.kind === "status" && e.message === drift!.message);
    expect(after[was]).toEqual({ ...drift, beforeRestart: true });
    // Once, every event before it from before too, and the restart after it, then this run's.
    expect(after.filter((e) => e.message === drift!.message)).toHaveLength(1);
    const restart = after.findIndex((e) => e.kind === "restored");
    expect(restart).toBeGreaterThan(was);
    expect(after.slice(0, restart).every((e) => e.beforeRestart === true)).toBe(true);
    expect(after.slice(restart).some((e) => e.beforeRestart)).toBe(false);
    expect(after[restart]!.message).toMatch(/known from before the dashboard restarted/);
    expect(after.slice(restart + 1).map((e) => e.kind)).toContain("connected");

    // A second restart: the first one's events and its restart are kept, none twice.
    await f.stopDashboard();
    await f.startDashboard();
    const second = await timeline(f, node.name);
    expect(second.filter((e) => e.message === drift!.message)).toHaveLength(1);
    expect(second.filter((e) => e.kind === "restored")).toHaveLength(2);
    const keys = second.map((e) => `${e.time} ${e.kind} ${e.message}`);
    expect(new Set(keys).size).toBe(keys.length);
  }, 120_000);
});
