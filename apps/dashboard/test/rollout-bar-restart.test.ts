// The fleet bar after a dashboard restart in the middle of a staged rollout: the rollout panel
// came back from the persisted state, but the bar (the summary's `rollout`) stayed empty until
// the next save. A tracker started at the resumed revision at once finished with zero nodes
// ("every node applied"): at a start the waves name no node until reporters reconnect. The
// bar now tracks the resumed revision, counts the nodes the waves counted but not heard from
// since the restart (`unseen`: pending, offline), and never finishes before they are back.
import type { Rollout, StagedRolloutView } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { SimReporter } from "./helpers/reporter-client.js";
import { barOf, barWhen, reconnect, restart, save, untilStatus } from "./helpers/restart.js";
import { rollout, untilCanaryApplied, waves } from "./helpers/rollout.js";
import { eventually, perTest, startServer, type TestServer } from "./helpers/server.js";

const t = perTest();
const NAMES = ["node-a", "node-b", "node-c", "node-d"];
const V2 = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";

const inSync = (s: TestServer, n: number) => untilStatus(s, "in-sync", n);

/** A dashboard on a fresh data dir, four reporters in sync, revision 2 saved in waves. */
async function stagedSave(): Promise<{
  server: TestServer;
  sims: SimReporter[];
  revision: number;
  stable: number;
  canary: string;
}> {
  t.server = await startServer();
  const server = t.server;
  const sims = [];
  for (const name of NAMES) sims.push(await t.connect(name));
  await inSync(server, NAMES.length);
  const saved = await save(server, V2, waves({ count: 1 }));
  const applied = await untilCanaryApplied(server);
  return { server, sims, ...saved, canary: applied.waves[0]!.appliedNodes[0]! };
}

const running = (r: Rollout | null) => r !== null && r.finishedAt === null;

describe("the fleet bar after a restart in the middle of a staged rollout", () => {
  it("tracks the resumed revision as nodes reconnect, never finished before they are back", async () => {
    const { sims, revision, canary } = await stagedSave();
    const server = await restart(t);
    // No node has reconnected: the bar names the resumed revision and waits for all four.
    const first = await barWhen(server, "the resumed rollout on the bar", running);
    expect(first).toMatchObject({
      revision,
      finishedAt: null,
      total: 4,
      done: 0,
      pending: 4,
      offline: 4,
      unseen: 4,
      failed: 0,
    });
    expect(first!.resumedAt).toEqual(expect.any(Number));
    // The rollout panel's canary card says its member is not heard from yet, not only "0/1".
    const panel = (await server.api("/api/rollout")).body.rollout;
    expect(panel.waves[0]).toMatchObject({ released: true, total: 1, applied: 0, unseen: 1 });

    // The canary and one node of the wave held back come back.
    const sim = (name: string) => sims.find((s) => s.opts.node === name)!;
    const held = NAMES.filter((n) => n !== canary);
    await reconnect(t, server, sim(canary));
    await reconnect(t, server, sim(held[0]!));
    const two = await barWhen(server, "two nodes back", (r) => r?.done === 1 && r.heldBack === 1);
    expect(two).toMatchObject({
      revision,
      finishedAt: null,
      total: 4,
      done: 1,
      pending: 3,
      heldBack: 1,
      offline: 2,
      unseen: 2,
    });

    // Every wave released with one node still away: not finished, that node still counted.
    await reconnect(t, server, sim(held[1]!));
    expect(
      (await server.api("/api/rollout/promote", { method: "POST", body: { full: true } })).status,
    ).toBe(200);
    const three = await barWhen(server, "three nodes applied", (r) => r?.done === 3);
    expect(three).toMatchObject({ revision, finishedAt: null, total: 4, pending: 1, unseen: 1 });
    expect((await rollout(server))?.phase).not.toBe("healthy");

    // The last one back: finished, every node of the rollout applied.
    await reconnect(t, server, sim(held[2]!));
    const done = await barWhen(server, "finished", (r) => r?.finishedAt != null);
    expect(done).toMatchObject({ revision, total: 4, done: 4, pending: 0, failed: 0 });
    expect(done!.unseen).toBeUndefined();
  });

  it("a rollout paused by a failure comes back paused on the bar, its failed canary counted", async () => {
    t.server = await startServer();
    const server0 = t.server;
    const sims = [];
    for (const name of NAMES) sims.push(await t.connect(name));
    await inSync(server0, NAMES.length);
    for (const s of sims) s.failApplies = "iptables-restore: line 3 failed";
    const { revision } = await save(server0, V2, waves({ count: 1 }));
    const paused = await eventually(
      async () => {
        const r: StagedRolloutView | null = await rollout(server0);
        return r?.pause?.kind === "failure" ? r : undefined;
      },
      5000,
      "paused by the canary's failure",
    );
    const canary = paused.waves[0]!.failedNodes[0]!.name;
    const server = await restart(t);
    for (const s of sims) await reconnect(t, server, s);
    const bar = await barWhen(server, "every node back", (r) => r?.unseen === undefined);
    expect(bar).toMatchObject({
      revision,
      finishedAt: null,
      total: 4,
      done: 0,
      failed: 1,
      heldBack: 3,
    });
    const failed = (await rollout(server))?.waves[0]?.failedNodes.map((n) => n.name);
    expect(failed).toEqual([canary]);
  });

  it("a rollout aborted before the restart: the bar tracks the return to the stable revision", async () => {
    const { server: server0, sims, stable } = await stagedSave();
    expect((await server0.api("/api/rollout/abort", { method: "POST", body: {} })).status).toBe(
      200,
    );
    await barWhen(server0, "reverted", (r) => r?.revision === stable && r.finishedAt !== null);
    const server = await restart(t);
    const first = await barWhen(server, "the return tracked again", running);
    expect(first).toMatchObject({ revision: stable, total: 4, done: 0, unseen: 4 });
    for (const s of sims) await reconnect(t, server, s);
    const done = await barWhen(server, "every node back on it", (r) => r?.finishedAt != null);
    expect(done).toMatchObject({ revision: stable, total: 4, done: 4, failed: 0 });
    expect((await server.api("/api/nodes")).body.summary.abortedRevision).toBeGreaterThan(stable);
  });

  it("a rollout finished before the restart does not come back on the bar", async () => {
    const { server: server0, sims } = await stagedSave();
    expect(
      (await server0.api("/api/rollout/promote", { method: "POST", body: { full: true } })).status,
    ).toBe(200);
    await eventually(async () => (await rollout(server0))?.phase === "healthy", 5000, "healthy");
    const server = await restart(t);
    expect(await barOf(server)).toBeNull();
    for (const s of sims) await reconnect(t, server, s);
    await inSync(server, NAMES.length);
    expect(await barOf(server)).toBeNull();
  });

  it("a save after the restart replaces the resumed revision on the bar", async () => {
    const { sims, revision } = await stagedSave();
    const server = await restart(t);
    // Three of four back; the fourth never returns.
    for (const s of sims.slice(0, 3)) await reconnect(t, server, s);
    await barWhen(server, "the resumed rollout", (r) => r?.revision === revision);
    const v3 = "nonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n";
    const next = (await save(server, v3, { kind: "all-at-once" })).revision;
    const done = await barWhen(
      server,
      "the new revision rolled out",
      (r) => r?.revision === next && r.done === 3,
    );
    // The new rollout's targets are the nodes known now, the one never back too (the node
    // roster lists it): offline, not heard from since the restart, waited for as before it.
    expect(done).toMatchObject({ total: 4, done: 3, offline: 1, unseen: 1, finishedAt: null });
    expect(done!.resumedAt).toBeUndefined();
  });
});
