import {
  compareNodeOrder,
  decodeDashboardMessage,
  defaultConfig,
  type WavesStrategy,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import { FleetState, type ReporterLink } from "./fleet-state.js";
import { StagedRollouts } from "./staged-rollout.js";

type Link = ReporterLink & { frames: string[] };
function link(): Link {
  const l = { frames: [] as string[], send: (f: string) => l.frames.push(String(f)), close() {} };
  return l;
}

/** Revisions of the desired frames a link got, in order. */
const sent = (l: Link) =>
  l.frames.flatMap((f) => {
    const d = decodeDashboardMessage(f);
    return d.ok && d.msg.type === "desired" ? [d.msg.revision] : [];
  });

const WAVES: WavesStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [100],
  pause: { kind: "manual" },
};
const v1: Desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
const v2: Desired = {
  revision: 2,
  resourceVersion: "2",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
};

function setup(
  names = ["a", "b", "c"],
  observe: string[] = [],
  refusal: { reason: string | null; saveError?: string; active?: boolean } = { reason: null },
) {
  const restarted: [string[], string][] = [];
  let now = 1000;
  let desired = v1;
  const saved: unknown[] = [];
  // Nodes whose row the browsers are to be sent again.
  const told = new Set<string>();
  const feed = new ChangeFeed(250, () => {});
  feed.node = (name: string) => void told.add(name);
  const fleet = new FleetState({
    desired: () => desired,
    feed,
    log: silentLogger(),
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
    now: () => now,
  });
  const staged = new StagedRollouts({
    log: silentLogger(),
    now: () => now,
    persistence: {
      loadRollout: async () => saved.at(-1) ?? null,
      saveRollout: async (s) => {
        if (refusal.saveError) throw new Error(refusal.saveError);
        saved.push(s);
      },
    },
    restartUpstream: (n, why) => void restarted.push([[...n], why]),
    refusal: () => refusal.reason,
    active: () => refusal.active ?? true,
  });
  fleet.attachStaging(staged);
  const links = new Map(names.map((n) => [n, link()]));
  for (const [n, l] of links) {
    fleet.connect(helloFor(n, { mode: "enforce" }), l);
    fleet.applyResult(n, apply(1));
  }
  for (const n of observe) fleet.connect(helloFor(n, { mode: "observe" }), link());
  const order = [...names].sort(compareNodeOrder);
  return {
    restarted,
    fleet,
    staged,
    links,
    saved,
    canary: order[0]!,
    rest: order.slice(1),
    advance: (ms: number) => (now += ms),
    /** Names told since the last call, sorted. */
    told: () => {
      const out = [...told].sort();
      told.clear();
      return out;
    },
    save(d: Desired, strategy: WavesStrategy | { kind: "all-at-once" } = WAVES) {
      const prev = desired;
      desired = d;
      staged.begin(d, prev, "text", "alice", strategy);
      fleet.desiredChanged(d);
    },
  };
}

const apply = (revision: number, ok = true, error?: string) => ({
  type: "apply-result" as const,
  v: 2 as const,
  revision,
  ok,
  error,
  durationMs: 3,
  trigger: "desired" as const,
  changed: true,
});

const v3: Desired = {
  revision: 3,
  resourceVersion: "3",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8", "192.0.2.0/24"] },
};

describe("StagedRollouts after an abort or during a paused rollout", () => {
  it("stages the next change from the revision the nodes returned to, never the aborted one", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
    expect(t.staged.view()).toMatchObject({ phase: "paused" });
    t.save(v3);
    expect(t.staged.recordOf("2")).toMatchObject({ phase: "paused", supersededBy: 3 });
    // The canary of v3 may be another node: every node not in it runs the stable v1 again.
    const w0 = t.staged.view()!.waves[0]!;
    const canary3 = [...w0.appliedNodes, ...w0.pendingNodes];
    for (const n of [t.canary, ...t.rest])
      expect(t.fleet.desiredOf(n)?.revision).toBe(canary3.includes(n) ? 3 : 1);
    // A rollout that finished was not superseded.
    const u = setup();
    u.save(v2);
    u.fleet.applyResult(u.canary, apply(2));
    expect(u.staged.promote("eve", true).ok).toBe(true);
    for (const n of u.rest) u.fleet.applyResult(n, apply(2));
    u.save(v3);
    expect(u.staged.recordOf("2")).toMatchObject({ phase: "healthy" });
    expect(u.staged.recordOf("2")).not.toHaveProperty("supersededBy");
  });

  it("a canary that is the whole fleet: healthy once it applied, no promote of empty waves", () => {
    const t = setup();
    t.save(v2, { ...WAVES, canary: { count: 3 }, waves: [50, 100] });
    expect(t.staged.view()!.waves.map((w) => w.total)).toEqual([3, 0, 0]);
    for (const n of [t.canary, ...t.rest]) t.fleet.applyResult(n, apply(2));
    expect(t.staged.view()).toMatchObject({ phase: "healthy", step: 2 });
    expect(t.staged.view()!.actions.at(-1)).toMatchObject({
      action: "finish",
      user: "system",
      detail: "every wave applied the revision (wave 1 to wave 2: no nodes)",
    });
  });

  it("an empty wave is released without a pause after it, and said", () => {
    // Four nodes: canary 1, wave 1 up to 25% (already reached: empty), wave 2 the rest.
    const t = setup(["a", "b", "c", "d"]);
    t.save(v2, { ...WAVES, canary: { count: 1 }, waves: [25, 100] });
    expect(t.staged.view()!.waves.map((w) => w.total)).toEqual([1, 0, 3]);
    t.fleet.applyResult(t.canary, apply(2));
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
    for (const n of t.rest) t.fleet.applyResult(n, apply(2));
    expect(t.staged.view()).toMatchObject({ phase: "healthy" });
  });

  it("a revision without a strategy of its own during a rollout is staged like it", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2));
    // An explicit all-at-once (the operator's choice in the save review) releases everything.
    t.staged.intend("text", { kind: "all-at-once" });
    t.save(v3, { kind: "all-at-once" });
    for (const n of t.rest) expect(t.fleet.desiredOf(n)?.revision).toBe(3);
    // Another source changed, or kubectl: no strategy of its own; the default (all at once)
    // would release v2's unpromoted change too.
    const u = setup();
    u.save(v2);
    u.fleet.applyResult(u.canary, apply(2));
    u.save(v3, { kind: "all-at-once" }); // the default, no intent announced
    expect(u.staged.view()).toMatchObject({ revision: 3, previousRevision: 1 });
    for (const n of u.rest) expect(u.fleet.desiredOf(n)?.revision).toBe(1);
    expect(t.staged.view()).toBeNull();
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
    t.fleet.applyResult(t.canary, apply(2));
    t.staged.promote("bob", false);
    expect(t.fleet.rolloutView()).toMatchObject({ pending: 2 });
    expect(t.fleet.rolloutView()?.heldBack).toBeUndefined();
  });

  it("pauses when the canary applied, and promote releases the next wave", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2));
    expect(t.staged.view()).toMatchObject({
      phase: "paused",
      pause: { kind: "manual" },
      message: "the canary applied; paused until promoted",
    });
    expect(t.staged.promote("bob", false)).toMatchObject({ ok: true });
    for (const n of t.rest) expect(sent(t.links.get(n)!)).toEqual([1, 2]);
    for (const n of t.rest) t.fleet.applyResult(n, apply(2));
    const v = t.staged.view()!;
    expect(v.phase).toBe("healthy");
    expect(v.actions.map((a) => [a.action, a.user])).toEqual([
      ["start", "alice"],
      ["promote", "bob"],
      ["finish", "system"],
    ]);
    expect(t.fleet.nodes.get(t.rest[0]!)!.events.map((e) => e.kind)).toContain("rollout-promoted");
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
    t.fleet.applyResult(t.canary, apply(2));
    expect(t.staged.view()).toMatchObject({ phase: "paused", pause: { kind: "manual" } });
  });

  it("abort returns the changed nodes to the previous revision", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(1));
    expect(t.fleet.rollout.view()).toMatchObject({ revision: 1, done: 3, pending: 0 });
  });

  it("a canary that goes offline right after applying pauses the rollout", () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2));
    t.advance(2000);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    expect(t.staged.view()!.pause).toEqual({
      kind: "failure",
      reason: `${t.canary} went offline 2 s after applying`,
    });
  });

  it("a timed pause releases the next wave when it is over", async () => {
    const t = setup();
    t.save(v2, { ...WAVES, pause: { kind: "duration", seconds: 30 } });
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
    t.staged.promote("bob", true);
    for (const n of t.rest) t.fleet.applyResult(n, apply(2));
    t.save({ ...v2, revision: 3, resourceVersion: "3" });
    expect(t.staged.recordOf("2")).toMatchObject({ phase: "healthy", aborted: false });
    expect(t.staged.recordOf("2")?.actions.at(-1)?.action).toBe("finish");
    expect(t.staged.recordOf("3")?.actions.map((a) => a.action)).toEqual(["start"]);
  });

  it("observe mode: only the upstream pod recreation follows the waves", () => {
    const observe = ["o1", "o2", "o3", "o4", "o5", "o6"];
    const t = setup(["a", "b", "c"], observe);
    t.save(v2);
    const waves = t.staged.view()!.waves.map((w) => w.total);
    expect(waves).toEqual([1, 2]); // observe nodes are not waited for
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
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
    standby.attach({
      nodes: new Map(),
      pushTo() {},
      revert() {},
      noteEvent() {},
      rolloutChanged() {},
    });
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
    staged.attach({
      nodes: new Map(),
      pushTo() {},
      revert() {},
      noteEvent() {},
      rolloutChanged() {},
    });
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
    const leader = setup();
    leader.staged.begin(v2, v1, "text", "carol", WAVES);
    await leader.staged.flush();
    const ctl = { reason: null, active: false };
    const t = setup(["a", "b", "c"], [], ctl);
    t.saved.push(leader.saved.at(-1)); // the previous holder's last state: canary progressing
    let current = v1;
    await t.staged.restore(
      () => current,
      async (r) => (r === "1" ? v1 : null),
    );
    current = v2;
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2)); // applied while this replica was not the holder
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
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
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

/** A StagedRollouts started anew on what `t` persisted, attached to the same fleet. */
async function restartedFrom(
  t: ReturnType<typeof setup>,
  current: () => Desired | null,
  find: (resourceVersion: string) => Promise<Desired | null>,
): Promise<StagedRollouts> {
  const again = new StagedRollouts({
    log: silentLogger(),
    persistence: { loadRollout: async () => t.saved.at(-1)!, saveRollout: async () => {} },
  });
  await again.restore(current, find);
  again.attach({
    nodes: t.fleet.nodes,
    pushTo() {},
    revert() {},
    noteEvent() {},
    rolloutChanged() {},
  });
  return again;
}

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
    t.fleet.applyResult(t.canary, apply(2));
    expect(progress(t, t.canary)).toBe("canary:applied:2");
    expect(t.staged.promote("bob", false).ok).toBe(true);
    for (const n of t.rest) expect(progress(t, n)).toBe("wave 1:applying:2");
    for (const n of t.rest) t.fleet.applyResult(n, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
    expect(t.staged.abort("bob").ok).toBe(true);
    expect(t.staged.placeOf(t.canary)).toMatchObject({ aborted: true, released: false });
    expect(progress(t, t.canary)).toBe("canary:applying:1");
    t.fleet.applyResult(t.canary, apply(1));
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
    t.fleet.applyResult(t.canary, apply(2));
    t.told();
    expect(t.staged.promote("bob", true).ok).toBe(true);
    expect(t.told()).toEqual(["a", "b", "c", "d"]);
    for (const n of t.rest) t.fleet.applyResult(n, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
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
    t.fleet.applyResult(t.canary, apply(2));
    await t.staged.flush();
    expect(t.staged.problems()).toEqual([]);
  });
});

describe("break4: the persisted rollout cannot be read when a replica starts", () => {
  it("a node of a wave not released does not get the new revision because the read failed once", async () => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2));
    await t.staged.flush();
    // A replica starting now (a rolling update, a restart) reads the history ConfigMap; the API
    // server answers 503 once (restarting, overloaded).
    let reads = 0;
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: {
        loadRollout: async () => {
          if (reads++ === 0) throw new Error("503 ServiceUnavailable");
          return t.saved.at(-1)!;
        },
        saveRollout: async () => {},
      },
    });
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    again.attach({
      nodes: t.fleet.nodes,
      pushTo() {},
      revert() {},
      noteEvent() {},
      rolloutChanged() {},
    });
    // The rest's wave was never released: they must stay on revision 1 (late, never early).
    expect(again.desiredFor(t.rest[0]!, v2)?.revision).toBe(1);
  });
});
