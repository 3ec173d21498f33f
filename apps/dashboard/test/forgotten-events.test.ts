// A node removed by hand (DELETE /api/nodes/NAME) whose reporter comes back, then a crash before
// the nodes' events are written at their 30 s turn: the events from before the removal must not
// be on its timeline after the restart. The roster is written before DELETE answers; the events
// file was not, so it still held the removed node's old timeline, and the node listed again by
// the roster took it back as 'before restart'.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodeEvent } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { NODE_EVENTS_FILE } from "../src/server/fleet/node-events.js";
import { ROSTER_FILE } from "../src/server/fleet/node-roster.js";
import { ROSTER_WRITE_EVERY_MS } from "../src/server/fleet/roster-keeper.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();

async function status(name: string): Promise<string | undefined> {
  return (await t.server!.api(`/api/nodes/${name}`)).body.node?.status;
}

describe("a removed node's events across a crash", () => {
  it("are not restored when its reporter came back before the crash", async () => {
    t.server = await startServer();
    const dataDir = t.server.dataDir;
    await t.connect("node-x");
    await eventually(async () => (await status("node-x")) === "in-sync", 10_000, "in sync");
    // A clean stop: node-x's timeline is in node-events.json.
    await t.server.stop();
    for (const s of t.sims.splice(0)) s.ws.terminate();

    t.server = await startServer({ dataDir });
    expect(await status("node-x")).toBe("offline");
    // Written again at this start's first turn, with node-x's timeline from before.
    await eventually(async () => {
      const text = await readFile(join(dataDir, NODE_EVENTS_FILE), "utf8").catch(() => "");
      return text.includes("known from before the dashboard restarted");
    }, 5000);
    const removedAt = Date.now();
    expect((await t.server.api("/api/nodes/node-x", { method: "DELETE" })).status).toBe(200);
    // Its reporter comes back; the roster lists it again at its next turn.
    await t.connect("node-x");
    await eventually(async () => (await status("node-x")) === "in-sync", 10_000, "in sync again");
    await eventually(
      async () =>
        (await readFile(join(dataDir, ROSTER_FILE), "utf8").catch(() => "")).includes("node-x"),
      ROSTER_WRITE_EVERY_MS + 3000,
      "the roster lists node-x again",
    );
    // A crash now: the files as they are on disk, not as a clean stop writes them.
    const crashed = await Promise.all(
      [ROSTER_FILE, NODE_EVENTS_FILE].map(async (f) => {
        const text = await readFile(join(dataDir, f), "utf8");
        return [f, text] as const;
      }),
    );
    await t.server.stop();
    for (const s of t.sims.splice(0)) s.ws.terminate();
    for (const [f, text] of crashed) await writeFile(join(dataDir, f), text);

    t.server = await startServer({ dataDir });
    const events: NodeEvent[] = (await t.server.api("/api/nodes/node-x")).body.events;
    expect(events.filter((e) => e.time < removedAt)).toEqual([]);
    expect(events.map((e) => e.kind)).toContain("restored");
  }, 30_000);
});
