// StagedRollouts: waves released, paused, retried and aborted; places and problems told.
import { compareNodeOrder, type RolloutStrategy, type WavesStrategy } from "@masq/shared";
import { helloFor, remoteStatusFor } from "@masq/testkit/fixtures";
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import { RECONNECT_GRACE_MS, REPORT_WAIT_MAX_MS } from "./staged-offline.js";
import {
  applied,
  apply,
  fleetHooks,
  link,
  notHolding,
  remote,
  restartedFrom,
  sent,
  setup,
  v1,
  v2,
  v3,
  WAVES,
} from "./staged-rollout.fixture.js";
import { StagedRollouts } from "./staged-rollout.js";

describe("StagedRollouts after an abort or during a paused rollout", () => {
  it("stages the next change from the revision the nodes returned to, never the aborted one", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.abort("bob").ok).toBe(true);
    t.save(v3);
    expect(t.staged.view()).toMatchObject({ revision: 3, previousRevision: 1 });
    for (const n of t.rest) {
      expect(t.fleet.desiredOf(n)?.revision).toBe(1);
      expect(sent(t.links.get(n)!)).not.toContain(2);
    }
  });

  it("a paused rollout superseded by a new save: History says by which revision; nodes go back to stable", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.view()).toMatchObject({ phase: "paused" });
    t.save(v3);
    expect(t.staged.recordsFrom("2")[0]).toMatchObject({ phase: "paused", supersededBy: 3 });
    // The canary of v3 may be another node: every node not in it runs the stable v1 again.
    const w0 = t.staged.view()!.waves[0]!;
    const canary3 = [...w0.appliedNodes, ...w0.pendingNodes];
    for (const n of [t.canary, ...t.rest])
      expect(t.fleet.desiredOf(n)?.revision).toBe(canary3.includes(n) ? 3 : 1);
    // A rollout that finished was not superseded.
    const u = setup();
    u.save(v2);
    applied(u.fleet, u.canary, 2);
    expect(u.staged.promote("eve", true).ok).toBe(true);
    for (const n of u.rest) applied(u.fleet, n, 2);
    u.save(v3);
    expect(u.staged.recordsFrom("2")[0]).toMatchObject({ phase: "healthy" });
    expect(u.staged.recordsFrom("2")[0]).not.toHaveProperty("supersededBy");
  });

  it("a canary that is the whole fleet: healthy once it applied, no promote of empty waves", () => {
    const t = setup();
    t.save(v2, { ...WAVES, canary: { count: 3 }, waves: [50, 100] });
    expect(t.staged.view()!.waves.map((w) => w.total)).toEqual([3, 0, 0]);
    for (const n of [t.canary, ...t.rest]) applied(t.fleet, n, 2);
    expect(t.staged.view()).toMatchObject({ phase: "healthy", step: 2 });
    expect(t.staged.view()!.actions.at(-1)).toMatchObject({
      action: "finish",
      user: "system",
      detail: "every wave applied the revision (wave 1 to wave 2: no nodes)",
    });
  });

  // Issue 17: the bar's counts freeze when the rollout finishes (rollout.ts); the waves kept
  // counting, so a node forgotten (or whose record went) after the finish left the bar saying
  // 3 of 3 and the canary card 2 of 2 (or 2 applied, 1 pending) for the same rollout.
  const after: { desc: string; input: "forget"; want: number[] }[] = [
    { desc: "a node forgotten", input: "forget", want: [3, 3, 0, 0] },
  ];
  it.each(after)("a finished rollout's waves are frozen with the bar: $desc", ({ want }) => {
    const t = setup();
    t.save(v2, { ...WAVES, canary: { count: 3 }, waves: [50, 100] });
    for (const n of [t.canary, ...t.rest]) applied(t.fleet, n, 2);
    expect(t.staged.view()!.phase).toBe("healthy");
    const gone = t.rest[0]!;
    t.fleet.disconnect(gone, t.links.get(gone)!, "gone");
    expect(t.fleet.forget(gone)).toEqual({ ok: true });
    const w = t.staged.view()!.waves[0]!;
    const bar = t.fleet.rolloutView()!;
    expect([w.total, w.applied, w.pending, w.failed]).toEqual(want);
    expect([bar.total, bar.done, bar.pending, bar.failed]).toEqual(want);
  });

  it("an empty wave is released without a pause after it, and said", () => {
    // Four nodes: canary 1, wave 1 up to 25% (already reached: empty), wave 2 the rest.
    const t = setup(["a", "b", "c", "d"]);
    t.save(v2, { ...WAVES, canary: { count: 1 }, waves: [25, 100] });
    expect(t.staged.view()!.waves.map((w) => w.total)).toEqual([1, 0, 3]);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.view()).toMatchObject({ phase: "paused", step: 0 });
    expect(t.staged.promote("erin", false).ok).toBe(true);
    // Wave 1 has nobody to watch: wave 2 goes at once.
    expect(t.staged.view()).toMatchObject({ phase: "progressing", step: 2 });
    for (const n of t.rest) expect(t.fleet.desiredOf(n)?.revision).toBe(2);
    expect(t.staged.view()!.actions.at(-1)).toMatchObject({
      action: "promote",
      user: "system",
      detail: "wave 1 has no nodes: released wave 2 without a pause",
    });
    for (const n of t.rest) applied(t.fleet, n, 2);
    expect(t.staged.view()).toMatchObject({ phase: "healthy" });
  });

  it("a revision without a strategy of its own during a rollout is staged like it", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    // An explicit all-at-once (the operator's choice in the save review) releases everything.
    t.staged.intend("text", { kind: "all-at-once" });
    t.save(v3, { kind: "all-at-once" });
    for (const n of t.rest) expect(t.fleet.desiredOf(n)?.revision).toBe(3);
    // Another source changed, or kubectl: no strategy of its own; the default (all at once)
    // would release v2's unpromoted change too.
    const u = setup();
    u.save(v2);
    applied(u.fleet, u.canary, 2);
    u.save(v3, { kind: "all-at-once" }); // the default, no intent announced
    expect(u.staged.view()).toMatchObject({ revision: 3, previousRevision: 1 });
    for (const n of u.rest) expect(u.fleet.desiredOf(n)?.revision).toBe(1);
    expect(t.staged.view()).toBeNull();
  });

  // What a config source's save answers (PUT /api/config/sources/:id `rollsOut`): its toast.
  const atOnce = { kind: "all-at-once" } as const;
  const otherWaves: WavesStrategy = { ...WAVES, canary: { percent: 10 } };
  const cases: {
    desc: string;
    input: { running?: WavesStrategy; fallback: RolloutStrategy; refusal?: string };
    want: RolloutStrategy;
  }[] = [
    { desc: "no rollout under way: the default", input: { fallback: atOnce }, want: atOnce },
    { desc: "the default has waves", input: { fallback: WAVES }, want: WAVES },
    {
      desc: "a rollout under way: staged like it (it carries the unpromoted change)",
      input: { running: otherWaves, fallback: atOnce },
      want: otherWaves,
    },
    {
      desc: "waves that cannot run now (other replicas active) go at once",
      input: { fallback: WAVES, refusal: "2 dashboard replicas are active" },
      want: atOnce,
    },
  ];
  it.each(cases)("a save naming no strategy: $desc", ({ input, want }) => {
    const refusal = { reason: null as string | null };
    const t = setup(["a", "b", "c"], [], refusal);
    if (input.running) t.save(v2, atOnce, input.running);
    refusal.reason = input.refusal ?? null;
    expect(t.staged.strategyUnannounced(input.fallback)).toEqual(want);
  });
  it("a finished rollout does not count: the default decides", () => {
    const t = setup(["a"]);
    t.save(v2, atOnce, { ...WAVES, canary: { count: 1 }, waves: [100] });
    applied(t.fleet, t.canary, 2);
    expect(t.staged.view()?.phase).toBe("healthy");
    expect(t.staged.strategyUnannounced(atOnce)).toEqual(atOnce);
  });
});

describe("StagedRollouts", () => {
  it("sends the new revision to the canary only; the others keep the previous one", () => {
    const t = setup();
    t.save(v2);
    expect(sent(t.links.get(t.canary)!)).toEqual([1, 2]);
    for (const n of t.rest) {
      expect(sent(t.links.get(n)!)).toEqual([1]);
      expect(t.fleet.desiredOf(n)?.revision).toBe(1);
    }
    expect(t.staged.view()).toMatchObject({ phase: "progressing", step: 0, startedBy: "alice" });
    // The fleet's rollout counts say which pending nodes the waves hold back.
    expect(t.fleet.rolloutView()).toMatchObject({ total: 3, pending: 3, heldBack: 2 });
    applied(t.fleet, t.canary, 2);
    t.staged.promote("bob", false);
    expect(t.fleet.rolloutView()).toMatchObject({ pending: 2 });
    expect(t.fleet.rolloutView()?.heldBack).toBeUndefined();
  });

  it("pauses when the canary applied, and promote releases the next wave", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.view()).toMatchObject({
      phase: "paused",
      pause: { kind: "manual" },
      message: "the canary applied; paused until promoted",
    });
    expect(t.staged.promote("bob", false)).toMatchObject({ ok: true });
    for (const n of t.rest) expect(sent(t.links.get(n)!)).toEqual([1, 2]);
    for (const n of t.rest) applied(t.fleet, n, 2);
    const v = t.staged.view()!;
    expect(v.phase).toBe("healthy");
    expect(v.actions.map((a) => [a.action, a.user])).toEqual([
      ["start", "alice"],
      ["promote", "bob"],
      ["finish", "system"],
    ]);
    expect(
      t.fleet.nodes
        .get(t.rest[0]!)!
        .events.list()
        .map((e) => e.kind),
    ).toContain("rollout-promoted");
  });

  it("a failing canary pauses the rollout with the reason; retry re-sends it", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: line 3 failed"));
    expect(t.staged.view()).toMatchObject({
      phase: "paused",
      pause: {
        kind: "failure",
        reason: `${t.canary} failed to apply: iptables-restore: line 3 failed`,
      },
    });
    expect(t.staged.view()!.waves[0]!.failedNodes).toEqual([
      { name: t.canary, reason: "iptables-restore: line 3 failed" },
    ]);
    expect(t.staged.retry("carol")).toMatchObject({ ok: true });
    expect(sent(t.links.get(t.canary)!)).toEqual([1, 2, 2]);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.view()).toMatchObject({ phase: "paused", pause: { kind: "manual" } });
  });

  // A new user's find: a failed canary healed by a resync read "1 failed" beside its row in
  // sync, with nothing saying a retry was needed to count it.
  it("a failed node in sync on the revision now says a retry counts it", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: line 3 failed"));
    applied(t.fleet, t.canary, 2); // a resync applied it since
    expect(t.fleet.nodes.get(t.canary)).toMatchObject({ status: "in-sync", appliedRevision: 2 });
    expect(t.staged.view()!.waves[0]!.failedNodes).toEqual([
      {
        name: t.canary,
        reason:
          "iptables-restore: line 3 failed; in sync on revision 2 now: Retry failed nodes counts it",
      },
    ]);
    expect(t.staged.view()!.phase).toBe("paused"); // still failed until the retry
  });

  it("abort returns the changed nodes to the previous revision", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.abort("dave")).toMatchObject({ ok: true });
    expect(sent(t.links.get(t.canary)!)).toEqual([1, 2, 1]);
    for (const n of t.rest) expect(sent(t.links.get(n)!)).toEqual([1]);
    expect(t.fleet.desiredOf(t.canary)?.revision).toBe(1);
    expect(t.staged.view()).toMatchObject({ phase: "degraded", aborted: true });
    // What the fleet runs (GET /api/config's desiredRevision, the save review's base): v1.
    expect(t.staged.fleetDesired(v2)).toBe(v1);
    expect(t.staged.fleetDesired(v3)).toBe(v3);
    expect(t.staged.promote("dave", true)).toEqual({
      ok: false,
      error: "the rollout is degraded: nothing to promote",
    });
    applied(t.fleet, t.canary, 1);
    expect(t.fleet.rollout.view()).toMatchObject({ revision: 1, done: 3, pending: 0 });
  });

  // The canary sent v2 still runs v1 (its apply not answered): the revert skipped it as already
  // running v1, so it went on to apply v2 and kept it, while the rollout said "every node
  // returns to revision 1".
  it("abort while the canary applies sends it the previous revision too", () => {
    const t = setup();
    t.save(v2);
    expect(t.staged.abort("dave")).toMatchObject({ ok: true });
    expect(sent(t.links.get(t.canary)!)).toEqual([1, 2, 1]);
    applied(t.fleet, t.canary, 2); // the v2 it was applying
    applied(t.fleet, t.canary, 1);
    expect(t.fleet.nodes.get(t.canary)).toMatchObject({ appliedRevision: 1, status: "in-sync" });
    expect(t.fleet.rollout.view()).toMatchObject({ revision: 1, done: 3, pending: 0 });
  });

  it("a canary that goes offline right after applying pauses the rollout", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    t.advance(2000);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    // Judged once it had the time to reconnect to any replica (a dashboard rolling restart).
    t.advance(RECONNECT_GRACE_MS - 1000);
    t.staged.tick();
    expect(t.staged.view()!.pause).toEqual({ kind: "manual" });
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()!.pause).toEqual({
      kind: "failure",
      reason: `${t.canary} went offline 2 s after applying, and did not reconnect within 15 s`,
    });
    // The pause stays until someone acts; its sentence stays true once the canary is back
    // (newuser5: the fleet page read "…, and has not reconnected" beside the node live again).
    t.fleet.connect(helloFor(t.canary, { mode: "enforce" }), link());
    t.staged.tick();
    expect(t.fleet.nodes.get(t.canary)?.connected).toBe(true);
    expect(t.staged.view()!.message).toBe(
      `paused: ${t.canary} went offline 2 s after applying, and did not reconnect within 15 s`,
    );
  });

  // An adversarial tester's find: an offline node cut as the canary (or a hung reporter dropped
  // before its apply timed out) left the rollout "progressing: the canary is applying the
  // revision" for as long as it stayed away.
  it("a canary offline before applying pauses the rollout once it had the time to reconnect", () => {
    const t = setup();
    t.save(v2);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    t.advance(3000);
    t.staged.tick(); // suspected now, judged after the reconnect window
    expect(t.staged.view()!.phase).toBe("progressing");
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    expect(t.staged.view()!.pause).toEqual({
      kind: "failure",
      reason: `${t.canary} is offline and has not applied revision 2, and did not reconnect within 15 s`,
    });
  });

  it("promoted past an offline canary, the rollout is not paused for it again", () => {
    const t = setup();
    t.save(v2);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    t.advance(3000);
    t.staged.tick();
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    expect(t.staged.view()!.pause).toMatchObject({ kind: "failure" });
    expect(t.staged.promote("bob", false)).toMatchObject({ ok: true });
    for (let i = 0; i < 10; i++) {
      t.advance(3000);
      t.staged.tick();
    }
    expect(t.staged.view()).toMatchObject({ phase: "progressing", pause: null });
  });

  it("a canary that reconnects within the window applies, and the rollout goes on", () => {
    const t = setup();
    t.save(v2);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    t.advance(3000);
    t.staged.tick();
    const back = link();
    t.fleet.connect(helloFor(t.canary, { mode: "enforce" }), back);
    applied(t.fleet, t.canary, 2);
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    expect(t.staged.view()!.pause).toEqual({ kind: "manual" });
  });

  it("a canary that hangs right after applying is judged from its last frame, not from when it was dropped", () => {
    // newuser5: a demo canary's reporter stopped 0.5 s after applying; dropped as silent 30 s
    // later, the pause read "went offline 31 s after applying". One that hangs 35 s after
    // applying is dropped 65 s after, past the 60 s window, and never paused the rollout.
    for (const hangAt of [500, 35_000]) {
      const t = setup();
      t.save(v2);
      applied(t.fleet, t.canary, 2);
      t.advance(hangAt);
      t.fleet.seen(t.canary); // its last frame
      for (let i = 0; i < 30; i++) {
        t.advance(1000);
        t.fleet.sweep(); // silent after 2 heartbeats
      }
      expect(t.fleet.nodes.get(t.canary)?.silent).toBe(true);
      t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "silent for 3 heartbeats");
      t.advance(RECONNECT_GRACE_MS);
      t.staged.tick();
      expect(t.staged.view()!.pause, `hung ${hangAt} ms after applying`).toEqual({
        kind: "failure",
        reason: `${t.canary} went silent ${Math.round(hangAt / 1000)} s after applying, and did not reconnect within 15 s`,
      });
    }
  });

  // break7: the suspects are the owner's to judge; one that lost the Lease kept them, unjudged,
  // and its view said "No wave goes on until ..." for as long as it followed the new owner.
  it("an owner that lost the Lease with a node suspected: its view no longer says no wave goes on", () => {
    const ctl = { reason: null, active: true };
    const t = setup(["a", "b", "c"], [], ctl, { remote: remote([]) });
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    t.advance(2000);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    t.staged.tick();
    expect(t.staged.view()!.message).toMatch(/No wave goes on until it is known whether/);
    ctl.active = false; // another replica holds the singleton Lease: it judges from now on
    t.staged.tick();
    t.advance(REPORT_WAIT_MAX_MS * 2);
    t.staged.tick();
    expect(t.staged.view()!.message).not.toMatch(/No wave goes on/);
  });

  it("a canary that reconnects within the grace (to this or another replica) is not offline", () => {
    const cases: { desc: string; input: "here" | "elsewhere" }[] = [
      { desc: "reconnected here", input: "here" },
      { desc: "its NodeMasquerade connected by another replica", input: "elsewhere" },
    ];
    for (const c of cases) {
      const statuses = new Map<string, NodeMasqueradeStatus>();
      const t = setup(["a", "b", "c"], [], { reason: null }, { remote: remote([], statuses) });
      t.save(v2, { ...WAVES, pause: { kind: "duration", seconds: 1 } });
      applied(t.fleet, t.canary, 2);
      t.advance(2000);
      t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "dashboard replica stopping");
      t.advance(5000);
      t.staged.tick(); // the timed pause is over, yet no wave goes while the canary is suspect
      expect(t.staged.view(), c.desc).toMatchObject({ step: 0 });
      expect(t.staged.view()!.message, c.desc).toMatch(
        new RegExp(
          `\\. No wave goes on until it is known whether ${t.canary} reconnected: offline right after applying, not yet reported connected by any replica \\(reporters reconnect within 10 s; judged by 1970-01-01T00:05:\\d\\d.000Z at the latest\\)$`,
        ),
      );
      if (c.input === "here") t.fleet.connect(helloFor(t.canary, { mode: "enforce" }), link());
      else
        statuses.set(
          t.canary,
          remoteStatusFor({ replica: "dash-b", connected: true, appliedRevision: 2 }),
        );
      t.advance(RECONNECT_GRACE_MS);
      t.staged.tick();
      const v = t.staged.view()!;
      expect(v.pause?.kind, c.desc).not.toBe("failure");
      expect(
        v.actions.map((a) => a.action),
        c.desc,
      ).not.toContain("pause");
      expect(v.step, c.desc).toBe(1); // wave 1 released once the canary was seen again
    }
  });

  it("a timed pause releases the next wave when it is over", async () => {
    const t = setup();
    t.save(v2, { ...WAVES, pause: { kind: "duration", seconds: 30 } });
    applied(t.fleet, t.canary, 2);
    t.advance(29_000);
    t.staged.tick();
    expect(t.staged.view()!.step).toBe(0);
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()).toMatchObject({ step: 1, phase: "progressing" });
    for (const n of t.rest) expect(sent(t.links.get(n)!)).toEqual([1, 2]);
    // Ticks before the end of the pause neither record nor persist anything.
    expect(t.staged.view()!.actions.map((a) => a.action)).toEqual(["start", "resume"]);
    await t.staged.flush();
    expect(t.saved.length).toBeLessThan(8);
  });

  it("an empty canary says so instead of 'applied'", () => {
    const t = setup();
    t.save(v2, { ...WAVES, canary: { selector: { pool: "canary" } } });
    expect(t.staged.view()).toMatchObject({
      phase: "paused",
      message: "the canary has no nodes; paused until promoted",
    });
  });

  it("a node that joins gets the revision its wave has reached", () => {
    const t = setup();
    t.save(v2);
    const l = link();
    t.fleet.connect(helloFor("zz-new", { mode: "enforce" }), l);
    const wave = t.staged.view()!.waves.findIndex((w) => w.pendingNodes.includes("zz-new"));
    expect(wave).toBeGreaterThanOrEqual(0);
    expect(sent(l)).toEqual([wave === 0 ? 2 : 1]);
  });

  it("keeps the record of a finished rollout when the next one starts", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    t.staged.promote("bob", true);
    for (const n of t.rest) applied(t.fleet, n, 2);
    t.save({ ...v2, revision: 3, resourceVersion: "3" });
    expect(t.staged.recordsFrom("2")[0]).toMatchObject({ phase: "healthy", aborted: false });
    expect(t.staged.recordsFrom("2")[0]?.actions.at(-1)?.action).toBe("finish");
    expect(t.staged.recordsFrom("3")[0]?.actions.map((a) => a.action)).toEqual(["start"]);
  });

  // With config sources rollouts are of merges, recorded under merged resourceVersions: History
  // looked them up by the stored revision's own and showed none.
  it("the rollouts of merges made from one stored revision: newest first", () => {
    const t = setup();
    t.save({ ...v2, resourceVersion: "7+1@r2" });
    applied(t.fleet, t.canary, 2);
    expect(t.staged.abort("bob").ok).toBe(true);
    t.save({ ...v3, resourceVersion: "7+1@r3" });
    const from7 = t.staged.recordsFrom("7");
    expect(from7.map((r) => [r.resourceVersion, r.aborted])).toEqual([
      ["7+1@r3", false],
      ["7+1@r2", true],
    ]);
    expect(from7[1]?.actions.map((a) => a.action)).toEqual(["start", "abort"]);
    expect(t.staged.recordsFrom("2")).toEqual([]);
  });

  it("observe mode: only the upstream pod recreation follows the waves", () => {
    const observe = ["o1", "o2", "o3", "o4", "o5", "o6"];
    const t = setup(["a", "b", "c"], observe);
    t.save(v2);
    const waves = t.staged.view()!.waves.map((w) => w.total);
    expect(waves).toEqual([1, 2]); // observe nodes are not waited for
    applied(t.fleet, t.canary, 2);
    t.staged.promote("bob", false);
    // Split among themselves as the strategy says: a canary of one, then the rest.
    const canary = [...observe].sort(compareNodeOrder)[0]!;
    expect(t.restarted).toEqual([
      [[canary], "rollout of revision 2, the canary, by alice"],
      [
        observe.filter((n) => n !== canary).sort(compareNodeOrder),
        "rollout of revision 2, wave 1, by bob",
      ],
    ]);
    // Their desired revision is the store's: the upstream agent reads the ConfigMap itself.
    expect(t.fleet.desiredOf("o1")?.revision).toBe(2);
  });

  it("a standby replica writes nothing, and reads the active one's rollout when it takes over", async () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    let active = false;
    const writes: unknown[] = [];
    const standby = new StagedRollouts({
      log: silentLogger(),
      active: () => active,
      persistence: {
        loadRollout: async () => t.saved.at(-1)!,
        saveRollout: async (s) => void writes.push(s),
      },
    });
    standby.attach(fleetHooks(new Map()));
    let current = v1; // the standby started before the save
    await standby.restore(
      () => current,
      async (r) => (r === "1" ? v1 : null),
    );
    current = v2;
    standby.begin(v2, v1, "text", "someone", WAVES); // its own view of the fleet: no nodes
    await standby.flush();
    expect(writes).toEqual([]);
    standby.tick();
    expect(standby.view()?.waves.map((w) => w.total)).toEqual([0, 0]);
    // Takes over: the persisted rollout (with the active replica's waves) replaces its own.
    active = true;
    standby.tick();
    await until(() => standby.view()?.waves[0]?.total === 1, 2000, 10, "reloaded");
    expect(standby.view()).toMatchObject({ resourceVersion: "2", startedBy: "alice", step: 0 });
  });

  it("a rollout started before this replica held the Lease is persisted when it takes it", async () => {
    let active = false;
    const writes: { current: { revision: number } | null }[] = [];
    const staged = new StagedRollouts({
      log: silentLogger(),
      active: () => active,
      persistence: {
        loadRollout: async () => null,
        saveRollout: async (s) => void writes.push(s as (typeof writes)[number]),
      },
    });
    staged.attach(fleetHooks(new Map()));
    await staged.restore(
      () => v1,
      async () => null,
    );
    staged.begin(v2, v1, "text", "alice", WAVES);
    staged.tick();
    await staged.flush();
    expect(writes).toEqual([]);
    active = true;
    staged.tick();
    await until(() => writes.length > 0, 2000, 10, "persisted on taking the Lease");
    expect(writes.at(-1)?.current?.revision).toBe(2);
  });

  it("a replica taking the Lease over settles the wave the previous holder left progressing", async () => {
    const { t, ctl, toV2 } = await notHolding();
    toV2();
    applied(t.fleet, t.canary, 2); // applied while this replica was not the holder
    ctl.active = true;
    t.staged.tick();
    await until(
      () => t.staged.view()?.startedBy === "carol",
      2000,
      10,
      "the holder's rollout read",
    );
    expect(t.staged.view()).toMatchObject({ phase: "paused", step: 0 });
  });

  it("all at once: no staged rollout, every node gets the revision", () => {
    const t = setup();
    t.save(v2, { kind: "all-at-once" });
    expect(t.staged.view()).toBeNull();
    for (const l of t.links.values()) expect(sent(l)).toEqual([1, 2]);
  });

  it("persists each step and resumes after a restart", async () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    const again = await restartedFrom(
      t,
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    expect(again.view()).toMatchObject({ phase: "paused", step: 0, resourceVersion: "2" });
    expect(again.desiredFor(t.rest[0]!, v2)?.revision).toBe(1);
    expect(again.desiredFor(t.canary, v2)?.revision).toBe(2);
  });

  it("resumes a rollout the previous release persisted (generation, a string revision)", async () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    type Ref = { resourceVersion: string; revision: number };
    const old = ({ resourceVersion, revision, ...rest }: Ref) => ({
      ...rest,
      revision: resourceVersion,
      generation: revision,
    });
    const p = t.saved.at(-1) as {
      current: Ref & { previous: Ref };
      past: { resourceVersion: string }[];
    };
    const current = { ...old(p.current), previous: old(p.current.previous) };
    const past = p.past.map(({ resourceVersion, ...r }) => ({ ...r, revision: resourceVersion }));
    t.saved.push({ ...p, current, past });
    const again = await restartedFrom(
      t,
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    expect(again.view()).toMatchObject({ phase: "paused", resourceVersion: "2", revision: 2 });
    expect(again.view()).toMatchObject({ previousResourceVersion: "1", previousRevision: 1 });
    expect(again.desiredFor(t.rest[0]!, v2)?.revision).toBe(1);
  });

  it("resumes a merged config's rollout after a restart renumbered it (found by its config)", async () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    // A restarted dashboard numbers the same merge anew; the previous one is in no history.
    const renumbered: Desired = { ...v2, revision: 7, resourceVersion: "2+1@g7" };
    const again = await restartedFrom(
      t,
      () => renumbered,
      async () => null,
    );
    expect(again.view()).toMatchObject({ phase: "paused", revision: 7, previousRevision: 1 });
    expect(again.desiredFor(t.rest[0]!, renumbered)).toMatchObject({
      revision: 1,
      config: v1.config,
    });
    // Another config with that old number is another rollout: not resumed.
    const other = await restartedFrom(
      t,
      () => ({ ...v1, revision: 7, resourceVersion: "x" }),
      async () => null,
    );
    expect(other.view()).toBeNull();
  });
});

describe("more failed nodes than the persisted state lists", () => {
  it("are counted, and a retry after a restart sends every released node not applied again", async () => {
    const names = Array.from({ length: 160 }, (_, i) => `n-${i}`);
    const t = setup(names);
    t.save(v2, { ...WAVES, canary: { count: 150 } });
    const canary = [...names].sort(compareNodeOrder).slice(0, 150);
    for (const n of canary) t.fleet.applyResult(n, apply(2, false, "iptables-restore: line 3"));
    await t.staged.flush();
    const state = t.saved.at(-1) as { current: { failed: object; failedMore?: number } };
    expect(Object.keys(state.current.failed)).toHaveLength(100);
    expect(state.current.failedMore).toBe(50);
    const pushed: string[] = [];
    const saved: unknown[] = [];
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: { loadRollout: async () => state, saveRollout: async (x) => void saved.push(x) },
    });
    again.attach(fleetHooks(t.fleet.nodes, pushed));
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    expect(again.retry("bob").ok).toBe(true);
    expect([...pushed].sort()).toEqual([...canary].sort());
    await again.flush();
    const current = (saved.at(-1) as { current: object }).current;
    expect(current).toMatchObject({ failed: {} });
    expect(current).not.toHaveProperty("failedMore");
  });
});

describe("StagedRollouts places a node new to the rollout by the boundaries fixed at the start", () => {
  const ten = Array.from({ length: 10 }, (_, i) => `n-${i}`);
  const halves: WavesStrategy = { ...WAVES, waves: [50, 100] };
  const order = [...ten].sort(compareNodeOrder);
  // A name between wave 1's last node (order[4]) and wave 2's first (order[5]).
  const between = Array.from({ length: 2000 }, (_, i) => `late-${i}`).find(
    (n) => compareNodeOrder(n, order[4]!) > 0 && compareNodeOrder(n, order[5]!) < 0,
  )!;
  const cases: {
    desc: string;
    input: { persisted: "bounds" | "older dashboard's lists" };
    want: { wave: number; revision: number };
  }[] = [
    {
      desc: "between two waves: the later one (late, never early), on a replica that read the state",
      input: { persisted: "bounds" },
      want: { wave: 2, revision: 1 },
    },
    {
      desc: "an older dashboard's state (lists, no boundaries) is read: the same place",
      input: { persisted: "older dashboard's lists" },
      want: { wave: 2, revision: 1 },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const t = setup(ten);
    t.save(v2, halves);
    applied(t.fleet, t.canary, 2);
    t.staged.promote("bob", false); // wave 1 released, wave 2 waits
    await t.staged.flush();
    const state = t.saved.at(-1) as { current: { bounds?: unknown; sizes?: unknown } };
    expect(state.current.bounds).toEqual({
      last: [order[0], order[4], order[9]],
      canary: [order[0]],
    });
    if (input.persisted !== "bounds") {
      const { bounds: _, sizes: __, ...old } = state.current;
      const waves = [order.slice(0, 1), order.slice(1, 5), order.slice(5)];
      t.saved.push({ ...state, current: { ...old, waves } });
    }
    const again = await restartedFrom(
      t,
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    expect(again.desiredFor(between, v2)?.revision).toBe(want.revision);
    expect(again.placeOf(between)?.wave).toBe(want.wave);
    t.fleet.connect(helloFor(between, { mode: "enforce" }), link());
    expect(t.staged.placeOf(between)?.wave).toBe(want.wave);
  });
});

const progress = (t: ReturnType<typeof setup>, name: string) => {
  const p = t.staged.placeOf(name);
  return p && `${p.waveName}:${p.progress}:${p.desiredRevision}`;
};

describe("StagedRollouts.placeOf through a rollout", () => {
  it("canary applying then applied, the rest waiting on the previous revision; none when healthy", () => {
    const t = setup();
    expect(t.staged.placeOf(t.canary)).toBeNull();
    t.save(v2);
    expect(progress(t, t.canary)).toBe("canary:applying:2");
    for (const n of t.rest) expect(progress(t, n)).toBe("wave 1:waiting:1");
    applied(t.fleet, t.canary, 2);
    expect(progress(t, t.canary)).toBe("canary:applied:2");
    expect(t.staged.promote("bob", false).ok).toBe(true);
    for (const n of t.rest) expect(progress(t, n)).toBe("wave 1:applying:2");
    for (const n of t.rest) applied(t.fleet, n, 2);
    expect(t.staged.view()).toMatchObject({ phase: "healthy" });
    for (const n of [t.canary, ...t.rest]) expect(t.staged.placeOf(n)).toBeNull();
  });

  it("a failed canary says why; an abort returns every node to the previous revision", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: exit status 1"));
    expect(t.staged.placeOf(t.canary)).toMatchObject({
      progress: "failed",
      failure: "iptables-restore: exit status 1",
    });
    // It never left revision 1: after the abort it runs what it is to run.
    expect(t.staged.abort("bob").ok).toBe(true);
    expect(progress(t, t.canary)).toBe("canary:applied:1");
    for (const n of t.rest) expect(progress(t, n)).toBe("wave 1:applied:1");
  });

  it("after an abort a canary that applied the new revision is applying the previous one", () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.abort("bob").ok).toBe(true);
    expect(t.staged.placeOf(t.canary)).toMatchObject({ aborted: true, released: false });
    expect(progress(t, t.canary)).toBe("canary:applying:1");
    applied(t.fleet, t.canary, 1);
    expect(progress(t, t.canary)).toBe("canary:applied:1");
  });
});

describe("StagedRollouts tells the fleet whose place changed", () => {
  it("every node of the rollout on start, release and finish; only the failed one on a failure", () => {
    const t = setup(["a", "b", "c", "d"]);
    t.told();
    t.save(v2);
    expect(t.told()).toEqual(["a", "b", "c", "d"]);
    t.fleet.applyResult(t.canary, apply(2, false, "exit status 1"));
    // The canary's record changed too; no other node's place did.
    expect(t.told()).toEqual([t.canary]);
    expect(t.staged.retry("bob").ok).toBe(true);
    expect(t.told()).toEqual([t.canary]);
    applied(t.fleet, t.canary, 2);
    t.told();
    expect(t.staged.promote("bob", true).ok).toBe(true);
    expect(t.told()).toEqual(["a", "b", "c", "d"]);
    for (const n of t.rest) applied(t.fleet, n, 2);
    expect(t.staged.view()).toMatchObject({ phase: "healthy" });
    expect(t.told()).toEqual(["a", "b", "c", "d"]);
  });
});

describe("StagedRollouts while other replicas are active (refusal)", () => {
  const REASON = "dashboard replica dash-b is active too";

  it("a change rolls out all at once: no staged rollout, every node gets it", () => {
    const t = setup(["a", "b", "c"], [], { reason: REASON });
    t.save(v2);
    expect(t.staged.view()).toBeNull();
    for (const [n, l] of t.links) expect(sent(l), n).toEqual([1, 2]);
  });

  it("a rollout started alone is held: moves refused with why, no wave released or finished; lifted, it goes on", () => {
    const refusal = { reason: null as string | null };
    const t = setup(["a", "b", "c"], [], refusal);
    t.save(v2);
    refusal.reason = REASON;
    applied(t.fleet, t.canary, 2);
    // The canary applied, but the wave is not settled here while held.
    expect(t.staged.view()).toMatchObject({ phase: "progressing", step: 0, held: REASON });
    expect(t.staged.view()!.message).toBe(
      `the canary is applying the revision. Held: ${REASON}; this view counts only the nodes this replica holds, and no wave is released or finished until one replica is left`,
    );
    const cases = [
      { desc: "promote", r: t.staged.promote("bob", false) },
      { desc: "retry", r: t.staged.retry("bob") },
      { desc: "abort", r: t.staged.abort("bob") },
    ];
    for (const { desc, r } of cases)
      expect(r, desc).toEqual({
        ok: false,
        error: `${desc} is refused: ${REASON}, and a ${desc} here would reach only the nodes this replica holds. To return every node to the previous config, roll back to revision 1 all at once; to go on, ${desc} once one replica is left`,
      });
    for (const n of t.rest) expect(sent(t.links.get(n)!), n).toEqual([1]);
    refusal.reason = null;
    t.staged.tick();
    expect(t.staged.view()).toMatchObject({ phase: "paused", step: 0 });
    expect(t.staged.view()!.held).toBeUndefined();
    expect(t.staged.promote("bob", false).ok).toBe(true);
    for (const n of t.rest) expect(sent(t.links.get(n)!), n).toEqual([1, 2]);
  });
});

describe("StagedRollouts.problems", () => {
  it("a state that could not be persisted is a problem while the rollout runs, gone once written", async () => {
    const ctl = { reason: null, saveError: "configmaps is forbidden" as string | undefined };
    const t = setup(["a", "b", "c"], [], ctl);
    expect(t.staged.problems()).toEqual([]);
    t.save(v2);
    await t.staged.flush();
    expect(t.staged.problems()).toEqual([
      "the staged rollout of revision 2 could not be persisted (configmaps is forbidden): a restart of this dashboard would not resume it",
    ]);
    ctl.saveError = undefined;
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    expect(t.staged.problems()).toEqual([]);
  });
});

describe("the strategy saved with the revision (its annotation)", () => {
  const all = { kind: "all-at-once" } as const;
  const selector: WavesStrategy = { ...WAVES, canary: { selector: { pool: "canary" } } };
  const cases: {
    desc: string;
    input: { fallback: WavesStrategy | typeof all; announced?: WavesStrategy | typeof all };
    want: { staged: boolean };
  }[] = [
    {
      desc: "waves saved with the revision, read on a replica that did not save it",
      input: { fallback: all, announced: WAVES },
      want: { staged: true },
    },
    {
      desc: "all at once saved with it wins over a default with waves",
      input: { fallback: WAVES, announced: all },
      want: { staged: false },
    },
    {
      desc: "none saved (an edit outside the dashboard): the default",
      input: { fallback: WAVES },
      want: { staged: true },
    },
    {
      desc: "a canary selector without the nodes' labels: the default (no empty canary)",
      input: { fallback: all, announced: selector },
      want: { staged: false },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const { staged } = setup();
    staged.begin(v2, v1, "text", "alice", input.fallback, input.announced);
    expect(staged.active).toBe(want.staged);
  });
});

describe("one owner: the rollout is cut over every node, those other replicas hold too", () => {
  it("waves by count take nodes held here and elsewhere alike, in the stable order", () => {
    const all = ["a", "b", "c", "r-1", "r-2", "r-3"];
    const t = setup(
      ["a", "b", "c"],
      [],
      { reason: null },
      { remote: remote(["r-1", "r-2", "r-3"]) },
    );
    t.save(v2, { ...WAVES, canary: { count: 2 } });
    const v = t.staged.view()!;
    const order = [...all].sort(compareNodeOrder);
    expect(v.waves.map((w) => w.total)).toEqual([2, 4]);
    expect([...v.waves[0]!.pendingNodes].sort()).toEqual(order.slice(0, 2).sort());
    // Only the canary's nodes held here are sent the revision.
    for (const [name, l] of t.links)
      expect(sent(l).at(-1), name).toBe(order.slice(0, 2).includes(name) ? 2 : 1);
  });

  it("a canary selector saved on another replica: every node held until the labels are read", async () => {
    let read: (m: Map<string, Record<string, string>>) => void = () => {};
    const asked: string[][] = [];
    const labels = (names: readonly string[]) => {
      asked.push([...names].sort());
      return new Promise<Map<string, Record<string, string>>>((r) => (read = r));
    };
    const t = setup(["a", "b", "c"], [], { reason: null }, { remote: remote(["r-1"]), labels });
    const selector: WavesStrategy = { ...WAVES, canary: { selector: { pool: "canary" } } };
    t.save(v2, { kind: "all-at-once" }, selector);
    expect(asked).toEqual([["a", "b", "c", "r-1"]]);
    await t.staged.flush();
    // What the others read meanwhile must not say the revision goes at once.
    expect(t.saved.at(-1)).not.toMatchObject({ begun: 2 });
    for (const [name, l] of t.links) {
      expect(t.staged.desiredFor(name, v2)?.revision, name).toBe(1);
      expect(sent(l), name).toEqual([1]); // only what they had at connect
    }
    expect(t.staged.active).toBe(true);
    read(
      new Map([
        ["b", { pool: "canary" }],
        ["r-1", { pool: "canary" }],
        ["a", { pool: "main" }],
      ]),
    );
    await until(() => t.staged.view() !== null, 2000, 10, "waves cut");
    expect(t.staged.view()!.waves.map((w) => [...w.pendingNodes].sort())).toEqual([
      ["b", "r-1"],
      ["a", "c"],
    ]);
    expect(t.staged.desiredFor("b", v2)?.revision).toBe(2);
    expect(t.staged.desiredFor("a", v2)?.revision).toBe(1);
    await until(() => sent(t.links.get("b")!).at(-1) === 2, 2000, 10, "canary b sent revision 2");
  });
});

describe("a selector canary whose nodes' labels cannot be read", () => {
  it("holds every node and says why, reads again, and cuts the canary once read: never wave 1 without it", async () => {
    let calls = 0;
    const labels = async () => {
      if (++calls === 1) throw new Error("nodes is forbidden: cannot list resource");
      return new Map([["b", { pool: "canary" }]]);
    };
    const t = setup(["a", "b", "c"], [], { reason: null }, { remote: remote([]), labels });
    const selector: WavesStrategy = { ...WAVES, canary: { selector: { pool: "canary" } } };
    t.save(v2, { kind: "all-at-once" }, selector);
    await until(() => t.staged.problems().length > 0, 2000, 10, "the failed read said");
    expect(t.staged.problems()).toEqual([
      "the nodes' labels for the canary selector of revision 2 could not be read (nodes is forbidden: cannot list resource): every node stays on revision 1 while they are read again",
    ]);
    expect(t.staged.view()).toMatchObject({
      revision: 2,
      phase: "paused",
      waves: [],
      held: expect.stringMatching(
        /^the nodes' labels for the canary selector could not be read \(nodes is forbidden/,
      ),
    });
    for (const [name, l] of t.links) {
      expect(t.staged.desiredFor(name, v2)?.revision, name).toBe(1);
      expect(sent(l), name).toEqual([1]);
    }
    await until(() => t.staged.view()?.waves.length === 2, 3000, 20, "read again and cut");
    expect(calls).toBe(2);
    expect(t.staged.problems()).toEqual([]);
    expect(t.staged.view()!.waves.map((w) => [...w.pendingNodes].sort())).toEqual([
      ["b"],
      ["a", "c"],
    ]);
    expect(t.staged.desiredFor("a", v2)?.revision).toBe(1);
    expect(t.staged.desiredFor("b", v2)?.revision).toBe(2);
  });
});

// Several config sources: the primary save "7" merged with an extra source E is revision 2
// (M1). Its rollout was aborted; then E flapped (gone: revision 3, the primary alone; back:
// revision 4, M1 again, numbered anew) with nobody saving anything. Before, revision 4 was
// begun as a new rollout and M1 reached the canary again: the aborted change resumed. An
// aborted rollout stays aborted until the merged config is saved anew (a new primary save).
describe("an aborted merged config whose extra source flaps under the same primary save", () => {
  const p: Desired = { ...v1, resourceVersion: "7" };
  const m1 = (revision: number, rv: string): Desired => ({
    revision,
    resourceVersion: rv,
    config: v2.config,
  });

  function abortedThenFlapped() {
    const t = setup(["a", "b", "c"]);
    t.save(p); // every node on the primary alone (revision 1 as "7")
    t.save(m1(2, "7+1@r2"));
    expect(sent(t.links.get(t.canary)!).at(-1)).toBe(2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.abort("alice").ok).toBe(true);
    t.save({ ...p, revision: 3 }); // E gone
    t.save(m1(4, "7+1@r4")); // E back: the same merged config
    return t;
  }

  it("stays aborted: no node is sent the aborted config again", () => {
    const t = abortedThenFlapped();
    for (const [n, l] of t.links) {
      const revisions = sent(l);
      // Nothing sent after the abort carries M1 (revision 2 or 4).
      const after = revisions.slice(revisions.lastIndexOf(2) + 1);
      expect(after, n).not.toContain(4);
      expect(t.staged.desiredFor(n, t.current())?.config, n).toEqual(p.config);
    }
    const v = t.staged.view()!;
    expect(v).toMatchObject({ revision: 4, aborted: true });
    expect(v.actions.at(-1)?.detail).toContain("kept aborted");
  });

  it("saved anew (a new primary save of the same merge): rolled out again, from the canary", () => {
    const t = abortedThenFlapped();
    t.save(m1(5, "8+1@r5"));
    expect(t.staged.view()).toMatchObject({ revision: 5, aborted: false, step: 0 });
    expect(sent(t.links.get(t.canary)!).at(-1)).toBe(5);
    for (const n of t.rest) expect(sent(t.links.get(n)!)).not.toContain(5);
  });
});
