// The fleet bar after a dashboard restart in the middle of an all-at-once rollout (the file
// store's default). Only a staged rollout was persisted: saved while one node's reporter was
// away, revision 2 was still rolling out, yet after a restart the summary's `rollout` was null
// and stayed null as the nodes came back, so nothing said revision 2 had not reached every node.
// Now the rollout is persisted beside the staged state (rollout-extras.json) and tracked again:
// resumed, the nodes not back counted unseen (never done) until each applied, then finished,
// and not tracked again by a later restart.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SimReporter } from "./helpers/reporter-client.js";
import {
  barOf,
  barWhen,
  noneBack,
  reconnect,
  restart,
  save,
  untilStatus,
} from "./helpers/restart.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();
const NAMES = ["node-a", "node-b", "node-c"];
const V2 = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";

/** Three reporters in sync; node-c's stopped; revision 2 saved at once, applied by the other two. */
async function savedWithOneAway(): Promise<{ sims: SimReporter[]; revision: number }> {
  t.server = await startServer();
  const server = t.server;
  const sims = [];
  for (const name of NAMES) sims.push(await t.connect(name));
  await untilStatus(server, "in-sync", 3);
  sims[2]!.ws.terminate();
  await untilStatus(server, "offline", 1);
  const { revision } = await save(server, V2);
  await barWhen(server, "two of three applied", (r) => r?.revision === revision && r.done === 2);
  return { sims, revision };
}

describe("the fleet bar after a restart in the middle of an all-at-once rollout", () => {
  it("tracks it again, the nodes not back unseen, never done, until each applied; finished once", async () => {
    const { sims, revision } = await savedWithOneAway();
    // Persisted beside the staged state, apart from what the previous release reads.
    const path = join(t.server!.dataDir, "rollout-extras.json");
    const extras = await eventually(
      async () => JSON.parse(await readFile(path, "utf8").catch(() => "{}")).atOnce,
      5000,
      "the rollout persisted",
    );
    expect(extras).toMatchObject({ revision, startedBy: expect.any(String), targets: 3 });
    const server = await restart(t);
    // Every node known from the roster: a target not heard from since, whatever it ran before.
    const first = await barWhen(server, "the resumed rollout", (r) => r !== null);
    expect(first).toMatchObject(noneBack(revision, 3));
    expect(first!.startedAt).toBeLessThan(first!.resumedAt!);

    // The two that applied it before come back: done; node-c still away.
    await reconnect(t, server, sims[0]!);
    await reconnect(t, server, sims[1]!);
    const two = await barWhen(server, "two back", (r) => r?.done === 2);
    expect(two).toMatchObject({ revision, finishedAt: null, total: 3, pending: 1, unseen: 1 });

    // node-c back on revision 1: sent revision 2, applies it, and the rollout finishes.
    await reconnect(t, server, sims[2]!);
    const done = await barWhen(server, "finished", (r) => r?.finishedAt != null);
    expect(done).toMatchObject({ revision, total: 3, done: 3, pending: 0, failed: 0 });
    expect(done!.unseen).toBeUndefined();

    // Finished before this restart: not tracked again, nor finished again.
    const after = await restart(t);
    expect(await barOf(after)).toBeNull();
    for (const s of sims) await reconnect(t, after, s);
    await eventually(
      async () =>
        (await after.api("/api/nodes")).body.summary.byStatus["in-sync"] === 3 || undefined,
      5000,
      "3 nodes in sync",
    );
    expect(await barOf(after)).toBeNull();
  });

  it("a save after the restart replaces the resumed revision on the bar", async () => {
    const { sims, revision } = await savedWithOneAway();
    const server = await restart(t);
    await reconnect(t, server, sims[0]!);
    await barWhen(server, "the resumed rollout", (r) => r?.revision === revision && r.done === 1);
    const before = (await server.api("/api/config")).body;
    const v3 = "nonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n";
    const put = await server.api("/api/config", {
      method: "PUT",
      body: { yaml: v3, resourceVersion: before.resourceVersion },
    });
    expect(put.status).toBe(200);
    const next = await barWhen(
      server,
      "the new revision",
      (r) => r?.revision === put.body.revision,
    );
    expect(next!.resumedAt).toBeUndefined();
  });

  it("a persisted record that is not valid: said in /healthz, the start goes on, kept as it was", async () => {
    await savedWithOneAway();
    const dataDir = t.server!.dataDir;
    for (const s of t.sims) s.ws.terminate();
    await t.server!.stop();
    // A hand edit of rollout-extras.json: the record's revision no number.
    const path = join(dataDir, "rollout-extras.json");
    const extras = JSON.parse(await readFile(path, "utf8"));
    extras.atOnce.revision = "two";
    await writeFile(path, JSON.stringify(extras));
    t.server = await startServer({ dataDir });
    const health = (await t.server.api("/healthz")).body;
    expect(health.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^the persisted all-at-once rollout could not be read \(revision/),
      ]),
    );
    expect(await barOf(t.server)).toBeNull();
    expect(JSON.parse(await readFile(path, "utf8")).atOnce.revision).toBe("two");
  });
});
