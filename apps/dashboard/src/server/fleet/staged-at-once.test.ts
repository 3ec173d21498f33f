// An all-at-once rollout in progress across a dashboard restart: persisted beside the staged
// rollout's state (at-once-state.ts), tracked again on the fleet bar after the start, dropped
// when it finishes or a newer revision supersedes it. Before, only a staged rollout was kept:
// the bar showed no rollout after a restart while nodes had still to apply the revision.
import type { Rollout } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import { testFleet } from "./post-apply.fixture.js";
import { applied, link, setup, v1, v2, v3, WAVES } from "./staged-rollout.fixture.js";
import { StagedRollouts } from "./staged-rollout.js";

const AT_ONCE = { kind: "all-at-once" } as const;
const find = async (r: string) => ({ "1": v1, "2": v2, "3": v3 })[r] ?? null;
const atOnceOf = (state: unknown) => (state as { atOnce?: unknown } | undefined)?.atOnce;

/** Three nodes on v1, "c" offline; v2 saved at once and applied by "a" and "b" (not finished). */
async function savedWithOneAway() {
  const t = setup();
  t.fleet.disconnect("c", t.links.get("c")!, "test");
  t.save(v2, AT_ONCE);
  applied(t.fleet, "a", 2);
  applied(t.fleet, "b", 2);
  await t.staged.flush();
  return t;
}

/**
 * A dashboard started anew on `saved` (its last persisted state) with no node roster: a fleet
 * knowing no node, the rollout resumed as http-server.ts does. `finished`: the bar's finishes.
 */
async function restarted(saved: unknown, current: Desired = v2) {
  const writes: unknown[] = [];
  const finished: Rollout[] = [];
  let now = 50_000;
  const staged = new StagedRollouts({
    log: silentLogger(),
    now: () => now,
    persistence: {
      loadRollout: async () => saved,
      saveRollout: async (s) => void writes.push(s),
    },
  });
  const fleet = testFleet(() => current, {
    now: () => now,
    onRolloutFinished: (r) => {
      finished.push(r);
      staged.rolloutFinished(r);
    },
  });
  fleet.attachStaging(staged);
  await staged.restore(() => current, find);
  fleet.resumeRollout(staged.resumedTracking());
  const back = (name: string, revision: 1 | 2 | 3) => {
    fleet.connect(helloFor(name, { mode: "enforce" }), link());
    applied(fleet, name, revision);
  };
  return { staged, fleet, writes, finished, back, advance: (ms: number) => (now += ms) };
}

describe("an all-at-once rollout is persisted while it runs", () => {
  it("with its revision, start, who started it and its targets; dropped once the bar's rollout finishes", async () => {
    const t = await savedWithOneAway();
    expect(t.fleet.rolloutView()).toMatchObject({ revision: 2, finishedAt: null, done: 2 });
    expect(atOnceOf(t.saved.at(-1))).toMatchObject({
      version: 1,
      revision: 2,
      resourceVersion: "2",
      startedAt: 1000,
      startedBy: "alice",
      targets: 3,
    });
    t.staged.rolloutFinished({ revision: 1 }); // another rollout's finish: kept
    await t.staged.flush();
    expect(atOnceOf(t.saved.at(-1))).toBeDefined();
    t.staged.rolloutFinished({ revision: 2 });
    await t.staged.flush();
    expect(atOnceOf(t.saved.at(-1))).toBeUndefined();
  });

  it("superseded by a staged save: dropped, the staged rollout persisted in its place", async () => {
    const t = await savedWithOneAway();
    expect(atOnceOf(t.saved.at(-1))).toMatchObject({ revision: 2 });
    t.save(v3, WAVES);
    await t.staged.flush();
    const last = t.saved.at(-1) as { current: { revision: number } | null };
    expect(atOnceOf(last)).toBeUndefined();
    expect(last.current?.revision).toBe(3);
  });

  it("superseded by another all-at-once save: the newer one in its place", async () => {
    const t = await savedWithOneAway();
    t.advance(500);
    t.save(v3, AT_ONCE);
    await t.staged.flush();
    expect(atOnceOf(t.saved.at(-1))).toMatchObject({ revision: 3, startedAt: 1500 });
  });
});

describe("after a restart the fleet bar tracks it again", () => {
  it("resumed, its targets not back counted unseen (never done) until each applied; finished once", async () => {
    const t = await savedWithOneAway();
    const r = await restarted(t.saved.at(-1));
    // No roster here: the three targets counted by number, none known by name yet.
    expect(r.fleet.rolloutView()).toMatchObject({
      revision: 2,
      startedAt: 1000,
      resumedAt: 50_000,
      finishedAt: null,
      total: 3,
      done: 0,
      pending: 3,
      offline: 3,
      unseen: 3,
    });
    r.back("a", 2);
    r.back("b", 2);
    expect(r.fleet.rolloutView()).toMatchObject({
      done: 2,
      pending: 1,
      unseen: 1,
      finishedAt: null,
    });
    expect(r.finished).toEqual([]);
    r.advance(1000);
    r.back("c", 2);
    const done = r.fleet.rolloutView();
    expect(done).toMatchObject({ revision: 2, total: 3, done: 3, finishedAt: 51_000 });
    expect(done!.unseen).toBeUndefined();
    expect(r.finished).toHaveLength(1);
    await r.staged.flush();
    // Finished: persisted no more, so a second restart neither tracks it nor says it again.
    expect(atOnceOf(r.writes.at(-1))).toBeUndefined();
    const again = await restarted(r.writes.at(-1));
    expect(again.fleet.rolloutView()).toBeNull();
  });

  it("one that finished before the restart does not come back", async () => {
    const t = await savedWithOneAway();
    t.staged.rolloutFinished({ revision: 2 });
    await t.staged.flush();
    const r = await restarted(t.saved.at(-1));
    expect(r.fleet.rolloutView()).toBeNull();
    r.back("a", 2);
    expect(r.finished).toEqual([]);
  });

  it("not when the current revision is another one (superseded while it was down)", async () => {
    const t = await savedWithOneAway();
    expect((await restarted(t.saved.at(-1), v2)).staged.resumedTracking()).not.toBeNull();
    const r = await restarted(t.saved.at(-1), v3);
    expect(r.staged.resumedTracking()).toBeNull();
    expect(r.fleet.rolloutView()).toBeNull();
  });

  it("a target forgotten after the restart is no longer waited for", async () => {
    const t = await savedWithOneAway();
    const r = await restarted(t.saved.at(-1));
    r.back("a", 2);
    r.back("b", 2);
    r.staged.removed("c"); // as FleetState.forget tells it (the node was never back by name)
    expect(r.fleet.rollout.recheck(60_000)).toBe(true);
    expect(r.finished).toHaveLength(1);
  });

  it("a bad persisted record: said, nothing tracked, the staged rollout beside it still resumed", async () => {
    const t = setup();
    t.save(v2, WAVES);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    const state = { ...(t.saved.at(-1) as object), atOnce: { version: 1, revision: "two" } };
    const r = await restarted(state);
    expect(r.staged.view()).toMatchObject({ revision: 2 });
    expect(r.fleet.rolloutView()).toMatchObject({ revision: 2, resumedAt: 50_000 });
    expect(r.staged.problems()).toEqual([
      expect.stringMatching(/^the persisted all-at-once rollout could not be read \(.*revision/),
    ]);
  });
});
