// The node roster across dashboard restarts (file store): a node whose reporter does not come
// back after a restart is still listed, offline, "not heard from since the dashboard
// restarted", with its last seen time from before; one that reconnects is in sync as ever; a
// node removed stays removed across the next restart; a bad roster never stops the start.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NOT_HEARD_SINCE_RESTART, type NodeSummary } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { ROSTER_FILE } from "../src/server/fleet/node-roster.js";
import { ROSTER_WRITE_EVERY_MS } from "../src/server/fleet/roster-keeper.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();

async function rows(): Promise<NodeSummary[]> {
  return (await t.server!.api("/api/nodes")).body.nodes;
}

async function row(name: string): Promise<NodeSummary | undefined> {
  return (await rows()).find((n) => n.name === name);
}

async function inSync(name: string): Promise<void> {
  await eventually(async () => (await row(name))?.status === "in-sync", 10_000, `${name} in sync`);
}

describe("the node roster across restarts", () => {
  it("lists a node that did not come back offline, not heard from since the restart", async () => {
    t.server = await startServer();
    const dataDir = t.server.dataDir;
    await t.connect("node-a");
    const b = await t.connect("node-b");
    await inSync("node-a");
    await inSync("node-b");
    const applied = (await row("node-b"))!.appliedRevision;

    // node-b's reporter stops; the roster is written within its throttle, not only at a stop.
    await b.close();
    const before = await eventually(async () => {
      const r = await row("node-b");
      return r?.status === "offline" ? r : undefined;
    });
    await eventually(
      async () => {
        const text = await readFile(join(dataDir, ROSTER_FILE), "utf8").catch(() => "");
        return text.includes('"status":"offline"') && text.includes('"node":"node-b"');
      },
      ROSTER_WRITE_EVERY_MS + 3000,
      "the roster written with node-b offline",
    );
    await t.server.stop();
    for (const s of t.sims.splice(0)) s.ws.terminate();

    t.server = await startServer({ dataDir });
    const restored = await row("node-b");
    expect(restored).toMatchObject({
      status: "offline",
      connected: false,
      liveness: "offline",
      lastSeenAt: before.lastSeenAt,
      appliedRevision: applied,
      notHeardSinceStart: expect.any(Number),
      summary: expect.stringContaining(NOT_HEARD_SINCE_RESTART),
    });
    expect(restored!.notKnownHere?.fields).toEqual(["severity"]);
    const summary = (await t.server.api("/api/nodes")).body.summary;
    expect(summary).toMatchObject({ total: 2, byStatus: { offline: 2 } });
    const detail = (await t.server.api("/api/nodes/node-b")).body;
    expect(detail.view).toBeNull();
    expect(detail.viewUnavailable).toContain(NOT_HEARD_SINCE_RESTART);
    expect(detail.events[0]).toMatchObject({ kind: "restored" });
    // The IP tester says why it cannot answer, not that the node never reported its rules.
    const tested = await t.server.api("/api/nodes/node-b/evaluate", { body: { ip: "8.8.8.8" } });
    expect(tested.status).toBe(409);
    expect(tested.body.error).toBe(
      `node node-b: ${NOT_HEARD_SINCE_RESTART}, so its rules are not known here; they are once its reporter reconnects and reports them`,
    );

    // node-a's reporter comes back: it replaces the restored record and is in sync.
    await t.connect("node-a");
    await inSync("node-a");
    expect(await row("node-a")).not.toHaveProperty("notHeardSinceStart");
    expect(await row("node-b")).toMatchObject({ status: "offline", lastSeenAt: before.lastSeenAt });

    // Removed, it stays removed across the next restart.
    expect((await t.server.api("/api/nodes/node-b", { method: "DELETE" })).status).toBe(200);
    // Out of the roster on disk before the answer: a crash right after does not list it again.
    const onDisk = JSON.parse(await readFile(join(dataDir, ROSTER_FILE), "utf8"));
    expect(onDisk.nodes.map((n: { hello: { node: string } }) => n.hello.node)).toEqual(["node-a"]);
    await t.server.stop();
    for (const s of t.sims.splice(0)) s.ws.terminate();
    t.server = await startServer({ dataDir });
    expect((await rows()).map((n) => [n.name, n.status])).toEqual([["node-a", "offline"]]);
    expect((await t.server.api("/api/nodes/node-b")).status).toBe(404);
  });

  it("starts on a bad roster with no node restored, says so in /healthz, keeps the file aside", async () => {
    t.server = await startServer();
    const dataDir = t.server.dataDir;
    await t.server.stop();
    await writeFile(join(dataDir, ROSTER_FILE), '{"version":1,"nodes":[{"hello":"x"}]}');

    t.server = await startServer({ dataDir });
    expect(await rows()).toEqual([]);
    const health = await t.server.api("/healthz");
    expect(health.status).toBe(200);
    expect(health.body.problems).toEqual([
      expect.stringMatching(/node roster .*nodes\.json could not be read .*moved aside to/),
    ]);
    const aside = (await readdir(dataDir)).filter((n) => n.startsWith(`${ROSTER_FILE}.bad-`));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dataDir, aside[0]!), "utf8")).toContain('"hello":"x"');
  });
});
