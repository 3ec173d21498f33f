import {
  type ApplyResult,
  DEFAULT_FLAGS,
  decodeDashboardMessage,
  defaultConfig,
  desiredChain,
  type FamilySnapshot,
  type Hello,
  jumpRuleLine,
  type Mode,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { ChangeFeed } from "./change-feed.js";
import type { ReporterLink } from "./fleet-state.js";
import { okResult, testFleet } from "./post-apply.fixture.js";

function hello(node: string, mode: Mode = "enforce"): Hello {
  return helloFor(node, { mode });
}

function link(): ReporterLink & { frames: string[]; closed?: string } {
  const l = {
    frames: [] as string[],
    closed: undefined as string | undefined,
    send: (f: string) => l.frames.push(f),
    close: (_c: number, r: string) => (l.closed = r),
  };
  return l;
}

function setup(onRolloutFinished?: (r: { total: number }) => void) {
  let now = 1000;
  const desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
  const changed: string[] = [];
  const feed = new ChangeFeed(250, () => {});
  feed.node = (name: string) => void changed.push(name);
  const fleet = testFleet(() => desired, { feed, now: () => now, onRolloutFinished });
  return { fleet, desired, changed, advance: (ms: number) => (now += ms), now: () => now };
}

const ok = (revision: number, trigger: "desired" | "periodic" = "desired") =>
  okResult(revision, trigger, false);

/** Targets a and b of revision 2, b disconnected before applying it. */
function aOnlineBOffline<T extends ReturnType<typeof setup>>(t: T): T {
  const b = link();
  t.fleet.connect(hello("a"), link());
  t.fleet.connect(hello("b"), b);
  t.fleet.desiredChanged({ ...t.desired, revision: 2 });
  t.fleet.disconnect("b", b, "gone");
  return t;
}

const types = (l: { frames: string[] }) =>
  l.frames.map((f) => (decodeDashboardMessage(f) as { ok: true; msg: { type: string } }).msg.type);

describe("FleetState", () => {
  it("welcomes, sends desired only to enforce nodes, and tracks the rollout", () => {
    const { fleet, desired } = setup();
    const a = link();
    const o = link();
    fleet.connect(hello("a"), a);
    fleet.connect(hello("o", "observe"), o);
    expect(types(a)).toEqual(["welcome", "desired"]);
    expect(types(o)).toEqual(["welcome"]);
    fleet.desiredChanged({ ...desired, revision: 2 });
    expect(types(a)).toEqual(["welcome", "desired", "desired"]);
    expect(fleet.rollout.view()).toMatchObject({ revision: 2, total: 1, pending: 1 });
    expect(fleet.nodes.get("a")!.status).toBe("applying");
    fleet.applyResult("a", {
      type: "apply-result",
      v: 2,
      revision: 2,
      ok: true,
      durationMs: 3,
      trigger: "desired",
      changed: false,
    });
    expect(fleet.rollout.view()).toMatchObject({ done: 1, pending: 0 });
    expect(fleet.nodes.get("a")!.appliedRevision).toBe(2);
  });

  // Issue 17: a target that went offline here and reconnected to another replica held this
  // replica's rollout open: no finish, no Applied Event, while the bar counted it done there.
  it("a target now held by another replica is no longer waited for here: the rollout finishes", () => {
    const finished: number[] = [];
    const { fleet, advance } = aOnlineBOffline(setup((r) => void finished.push(r.total)));
    fleet.applyResult("a", ok(2));
    advance(1000);
    expect(finished).toEqual([]);
    fleet.heldElsewhere("a"); // connected here: its record is the truth, nothing changes
    fleet.heldElsewhere("b");
    expect(finished).toEqual([1]);
    expect(fleet.rollout.view()).toMatchObject({ total: 1, done: 1, pending: 0 });
  });

  it("times out unacknowledged applies; a disconnected target waits offline, pending", () => {
    const { fleet, advance } = aOnlineBOffline(setup());
    expect(fleet.nodes.get("b")!.status).toBe("offline");
    advance(6000);
    fleet.seen("a"); // alive (heartbeats), but it never answered the apply
    fleet.sweep();
    expect(fleet.nodes.get("a")!.status).toBe("error");
    expect(fleet.nodes.get("a")!.summary).toMatch(/no apply-result within 5 s/);
    expect(fleet.rollout.view()).toMatchObject({ failed: 1, pending: 1, offline: 1 });
    expect(fleet.rollout.view()?.finishedAt).toBeNull();
  });

  it("ignores the close of a connection that a newer one replaced", () => {
    const { fleet } = setup();
    const old = link();
    const fresh = link();
    fleet.connect(hello("a"), old);
    fleet.connect(hello("a"), fresh);
    expect(old.closed).toMatch(/replaced/);
    fleet.disconnect("a", old, "closed");
    expect(fleet.nodes.get("a")!.connected).toBe(true);
    expect(fleet.connectedCount()).toBe(1);
  });

  it("waits for the post-apply snapshot only when it has not come before the apply-result", () => {
    const { fleet, desired } = setup();
    const cfg = desired.config;
    const d = desiredChain(cfg, DEFAULT_FLAGS, "ipv4");
    const node = {
      family: "ipv4" as const,
      chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line)],
      postrouting: [jumpRuleLine(d.chain)],
    };
    const rules = snapshotOf(node);
    const snap = (applied: number | null, linux: FamilySnapshot[] = [rules]) => ({
      type: "snapshot" as const,
      v: 2 as const,
      seq: 0,
      takenAt: 0,
      linux,
      appliedRevision: applied,
    });
    const ok = {
      type: "apply-result" as const,
      v: 2 as const,
      revision: 1,
      ok: true,
      durationMs: 1,
      trigger: "desired" as const,
      changed: true,
    };

    // Snapshot (with the new generation) first, then the apply-result: in sync at once.
    fleet.connect(hello("a"), link());
    fleet.snapshot("a", snap(1));
    fleet.applyResult("a", ok);
    expect(fleet.nodes.get("a")!.status).toBe("in-sync");

    // Apply-result first: the held snapshot predates the apply, so the node shows applying.
    fleet.connect(hello("b"), link());
    fleet.snapshot("b", snap(null, [snapshotOf({ ...node, chain: null })]));
    fleet.applyResult("b", ok);
    expect(fleet.nodes.get("b")!.status).toBe("applying");
    fleet.snapshot("b", snap(1));
    expect(fleet.nodes.get("b")!.status).toBe("in-sync");
  });
});

/** Node a, which said `helloRevision` at hello, sent revision 2 by a push. */
function sentRevision2(helloRevision: number | null) {
  const t = setup();
  t.fleet.connect({ ...hello("a"), appliedRevision: helloRevision }, link());
  t.fleet.desiredChanged({ ...t.desired, revision: 2 });
  return { t, n: t.fleet.nodes.get("a")! };
}

describe("FleetState: a new node's first status entry", () => {
  it("reads as a first report, not 'offline → …'; a return after going offline reads from offline", () => {
    const { fleet } = setup();
    const first = link();
    fleet.connect(hello("a"), first);
    const n = fleet.nodes.get("a")!;
    const statuses = () =>
      n.events
        .list()
        .filter((e) => e.kind === "status")
        .map((e) => e.message.replace(/:.*/, ""));
    expect(statuses()).toEqual(["applying (first report)"]);
    fleet.disconnect("a", first, "gone");
    fleet.connect(hello("a"), link());
    expect(statuses()).toEqual([
      "applying (first report)",
      "applying → offline",
      "offline → applying",
    ]);
  });
});

describe("FleetState: the timeline follows a drift as it changes", () => {
  it("adds an entry when a drifted node's differences change (one, kept to the newest), none when they stay", () => {
    const { fleet, desired } = setup();
    const d = desiredChain(desired.config, DEFAULT_FLAGS, "ipv4");
    const without = (...cidrs: string[]) => ({
      type: "snapshot" as const,
      v: 2 as const,
      seq: 0,
      takenAt: 0,
      linux: [
        snapshotOf({
          family: "ipv4" as const,
          chain: [
            `-N ${d.chain}`,
            ...d.rules.map((r) => r.line).filter((l) => !cidrs.some((c) => l.includes(`-d ${c} `))),
          ],
          postrouting: [jumpRuleLine(d.chain)],
        }),
      ],
      appliedRevision: 1,
    });
    fleet.connect(hello("a"), link());
    fleet.applyResult("a", ok(1));
    const n = fleet.nodes.get("a")!;
    const statusLines = () =>
      n.events
        .list()
        .filter((e) => e.kind === "status" || e.kind === "drift")
        .map((e) => `${e.kind}: ${e.message}`);
    fleet.snapshot("a", without());
    expect(n.status).toBe("in-sync");
    const before = statusLines().length;
    fleet.snapshot("a", without("10.0.0.0/8"));
    fleet.snapshot("a", without("10.0.0.0/8")); // the same drift again: no new entry
    fleet.snapshot("a", without("10.0.0.0/8", "172.16.0.0/12"));
    fleet.snapshot("a", without("172.16.0.0/12"));
    expect(statusLines().slice(before)).toEqual([
      "status: in-sync → drifted: missing 10.0.0.0/8",
      // One entry for the drift as it goes on (its newest word), not one per change.
      "drift: still drifted, what differs is now: missing 172.16.0.0/12",
    ]);
  });
});

describe("FleetState: a drift entry only when what differs changes", () => {
  // A save put the node's row at "not judged against revision 2 yet" until its turn; judged
  // again with the same differences, its timeline read "still drifted, what differs is now"
  // the very differences it had (every drifted observe-mode node, at every save).
  it("none for a drifted node judged again, the same differences, against a new revision", () => {
    let desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
    const fleet = testFleet(() => desired);
    const d = desiredChain(desired.config, DEFAULT_FLAGS, "ipv4");
    fleet.connect(hello("o", "observe"), link());
    fleet.snapshot("o", {
      type: "snapshot",
      v: 2,
      seq: 0,
      takenAt: 0,
      linux: [
        snapshotOf({
          family: "ipv4",
          chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line).slice(1)],
          postrouting: [jumpRuleLine(d.chain)],
        }),
      ],
      appliedRevision: null,
    });
    const n = fleet.nodes.get("o")!;
    expect(n.status).toBe("drifted");
    const before = n.events.list().length;
    desired = { ...desired, revision: 2, resourceVersion: "2" };
    fleet.desiredChanged(desired);
    expect(n.status).toBe("drifted");
    expect(n.judgedAgainst?.revision).toBe(2);
    expect(
      n.events
        .list()
        .slice(before)
        .filter((e) => e.kind === "drift"),
    ).toEqual([]);
  });
});

describe("FleetState: an apply-result is taken only for a revision the node could run", () => {
  const result = (revision: number | null, over: Partial<ApplyResult> = {}): ApplyResult => ({
    ...okResult(revision ?? 0),
    revision,
    ...over,
  });
  const table: {
    desc: string;
    /** The revision the node said it runs at hello (its state file). */
    helloRevision: number | null;
    input: ApplyResult;
    want: { taken: boolean; appliedRevision: number | null };
  }[] = [
    {
      desc: "the revision sent at connect",
      helloRevision: null,
      input: result(1),
      want: { taken: true, appliedRevision: 1 },
    },
    {
      desc: "a revision sent by a later push",
      helloRevision: null,
      input: result(2),
      want: { taken: true, appliedRevision: 2 },
    },
    {
      desc: "the revision of its state file, applied at start",
      helloRevision: 7,
      input: result(7, { trigger: "startup" }),
      want: { taken: true, appliedRevision: 7 },
    },
    {
      desc: "the revision of its state file, a periodic resync",
      helloRevision: 7,
      input: result(7, { trigger: "periodic", changed: false }),
      want: { taken: true, appliedRevision: 7 },
    },
    {
      desc: "no revision (a mounted ConfigMap file)",
      helloRevision: 7,
      input: result(null, { trigger: "desired" }),
      want: { taken: true, appliedRevision: 7 },
    },
    {
      desc: "a revision never sent (break: 999999 'sent by the dashboard')",
      helloRevision: null,
      input: result(999_999),
      want: { taken: false, appliedRevision: null },
    },
    {
      desc: "a revision never sent, as a periodic resync",
      helloRevision: 7,
      input: result(8, { trigger: "periodic" }),
      want: { taken: false, appliedRevision: 7 },
    },
    {
      desc: "a failed apply of a revision never sent",
      helloRevision: null,
      input: result(999_999, { ok: false, error: "x", changed: false }),
      want: { taken: false, appliedRevision: null },
    },
  ];
  for (const c of table)
    it(c.desc, () => {
      const { t, n } = sentRevision2(c.helloRevision);
      const before = n.lastApply;
      t.fleet.applyResult("a", c.input);
      expect(n.appliedRevision).toBe(c.want.appliedRevision);
      expect(n.lastApply).toBe(c.want.taken ? c.input : before);
      const last = n.events.list().at(-1);
      if (c.want.taken) expect(last?.kind).not.toBe("apply-ignored");
      else {
        expect(last?.kind).toBe("apply-ignored");
        expect(last?.message).toMatch(
          new RegExp(`revision ${c.input.revision} .* was ignored: this dashboard never sent`),
        );
        expect(n.events.list().map((e) => e.message)).not.toContainEqual(
          expect.stringMatching(/^applying revision 999999/),
        );
      }
    });

  it("remembers revisions sent on an earlier connection", () => {
    const t = setup();
    const first = link();
    t.fleet.connect(hello("a"), first);
    t.fleet.desiredChanged({ ...t.desired, revision: 2 });
    t.fleet.disconnect("a", first, "gone");
    t.fleet.connect(hello("a"), link());
    // Applied as the connection broke, reported on the new one.
    t.fleet.applyResult("a", okResult(2));
    expect(t.fleet.nodes.get("a")!.appliedRevision).toBe(2);
  });
});

describe("FleetState: a snapshot's revision is taken only when the node could run it", () => {
  const snap = (appliedRevision: number | null) => ({
    type: "snapshot" as const,
    v: 2 as const,
    seq: 0,
    takenAt: 0,
    linux: [],
    appliedRevision,
  });
  const table: {
    desc: string;
    helloRevision: number | null;
    input: number | null;
    want: { appliedRevision: number | null; ignored: boolean };
  }[] = [
    {
      desc: "the revision sent by a push",
      helloRevision: null,
      input: 2,
      want: { appliedRevision: 2, ignored: false },
    },
    {
      desc: "the revision it said at hello (its state file)",
      helloRevision: 7,
      input: 7,
      want: { appliedRevision: 7, ignored: false },
    },
    {
      desc: "none (observe mode, or a mounted file)",
      helloRevision: 7,
      input: null,
      want: { appliedRevision: null, ignored: false },
    },
    {
      desc: "a revision never sent (break: 999999)",
      helloRevision: null,
      input: 999_999,
      want: { appliedRevision: null, ignored: true },
    },
    {
      desc: "a revision never sent, the node at its hello revision",
      helloRevision: 7,
      input: 8,
      want: { appliedRevision: 7, ignored: true },
    },
  ];
  for (const c of table)
    it(c.desc, () => {
      const { t, n } = sentRevision2(c.helloRevision);
      t.fleet.snapshot("a", snap(c.input));
      t.fleet.snapshot("a", snap(c.input)); // said once on the timeline, not per snapshot
      expect(n.appliedRevision).toBe(c.want.appliedRevision);
      expect(n.snapshot?.appliedRevision ?? null).toBe(c.want.appliedRevision);
      const ignored = n.events.list().filter((e) => e.kind === "revision-ignored");
      expect(ignored.length).toBe(c.want.ignored ? 1 : 0);
      if (c.want.ignored)
        expect(ignored[0]!.message).toMatch(
          new RegExp(`revision ${c.input} was ignored: this dashboard never sent`),
        );
    });
});

describe("FleetState: what is known and how old it is", () => {
  it("flags a connected node that stopped sending (hung) after two heartbeats, and clears it", () => {
    const { fleet, advance, changed } = setup();
    fleet.connect(hello("a"), link());
    const a = fleet.nodes.get("a")!;
    advance(1500); // heartbeats every 1000 ms in this setup
    fleet.seen("a");
    advance(1900);
    fleet.sweep();
    expect(a.silent).toBe(false);
    changed.length = 0;
    advance(200); // 2100 ms since the last frame
    fleet.sweep();
    expect(a.silent).toBe(true);
    expect(a.status).toBe("unknown");
    expect(changed).toEqual(["a"]); // browsers are told
    expect(a.events.list().at(-1)).toMatchObject({ kind: "silent" });
    expect(a.events.list().at(-1)!.message).toMatch(/no frame for 2 s .*may be hung/);
    fleet.seen("a");
    expect(a.silent).toBe(false);
    expect(a.status).not.toBe("unknown");
    // "responding", then the status it returned to.
    expect(
      a.events
        .list()
        .slice(-2)
        .map((e) => e.kind),
    ).toEqual(["responding", "status"]);
  });

  it("does not tell browsers about heartbeats of a live node", () => {
    const { fleet, advance, changed } = setup();
    fleet.connect(hello("a"), link());
    fleet.applyResult("a", ok(1));
    changed.length = 0;
    for (let i = 0; i < 5; i++) {
      advance(1000);
      fleet.seen("a");
      fleet.sweep();
    }
    expect(changed).toEqual([]);
    expect(fleet.nodes.get("a")!.lastSeenAt).toBe(6000);
  });

  it("moves the reporter's next resync to our clock and restarts it on periodic applies", () => {
    const { fleet, advance } = setup(); // dashboard clock at 1000
    fleet.connect(hello("a"), link());
    // The reporter's clock is 500_000 ahead; it resyncs 40 s after it took the snapshot.
    fleet.snapshot("a", {
      type: "snapshot",
      v: 2,
      seq: 0,
      takenAt: 501_000,
      appliedRevision: 1,
      schedule: { heal: "next-resync", resyncMs: 60_000, nextResyncAt: 541_000 },
    });
    const a = fleet.nodes.get("a")!;
    expect(a.schedule).toEqual({ heal: "next-resync", resyncMs: 60_000, nextResyncAt: 41_000 });
    advance(40_000);
    fleet.applyResult("a", ok(1, "periodic"));
    expect(a.schedule?.nextResyncAt).toBe(101_000);
  });

  it.each([
    { desc: "one interval ahead", resyncMs: 60_000, ahead: 60_000, want: 61_000 },
    { desc: "due now", resyncMs: 60_000, ahead: 0, want: 1000 },
    { desc: "overdue (a late timer)", resyncMs: 60_000, ahead: -500, want: 500 },
    { desc: "further ahead than its interval (break)", resyncMs: 60_000, ahead: 1e12, want: null },
    { desc: "a time with no interval (break)", resyncMs: null, ahead: 5000, want: null },
  ])("a reporter's next resync: $desc", ({ resyncMs, ahead, want }) => {
    const { fleet } = setup(); // dashboard clock at 1000
    fleet.connect(hello("a"), link());
    fleet.snapshot("a", {
      type: "snapshot",
      v: 2,
      seq: 0,
      takenAt: 700_000,
      appliedRevision: null,
      schedule: { heal: "next-resync", resyncMs, nextResyncAt: 700_000 + ahead },
    });
    expect(fleet.nodes.get("a")!.schedule?.nextResyncAt).toBe(want);
  });

  it("keeps the next resync the apply-result set when the snapshot taken during it comes later", () => {
    const { fleet, advance } = setup();
    fleet.connect(hello("a"), link());
    const snap = (takenAt: number, nextResyncAt: number | null) =>
      fleet.snapshot("a", {
        type: "snapshot",
        v: 2,
        seq: 0,
        takenAt,
        appliedRevision: 1,
        schedule: { heal: "next-resync", resyncMs: 60_000, nextResyncAt },
      });
    snap(1000, 41_000);
    advance(40_000);
    fleet.applyResult("a", ok(1, "periodic"));
    // Taken while the periodic resync ran (its timer not re-armed yet), received after the result.
    snap(41_000, null);
    const a = fleet.nodes.get("a")!;
    expect(a.schedule?.nextResyncAt).toBe(101_000);
    // Once that time has passed a null is the reporter's word: a resync runs now.
    advance(61_000);
    snap(102_000, null);
    expect(a.schedule?.nextResyncAt).toBeNull();
  });

  /** Nodes a and b known, b offline when revision 2 is saved; a applies it. */
  function saveWhileBIsOffline() {
    const s = setup();
    const b = link();
    s.fleet.connect(hello("a"), link());
    s.fleet.connect(hello("b"), b);
    s.fleet.disconnect("b", b, "paused");
    s.desired.revision = 2;
    s.fleet.desiredChanged(s.desired);
    s.fleet.applyResult("a", ok(2));
    return s;
  }

  it("an offline enforce node is a rollout target; it catches up when it returns", () => {
    const { fleet, advance } = saveWhileBIsOffline();
    expect(fleet.rollout.view()).toMatchObject({
      total: 2,
      done: 1,
      pending: 1,
      offline: 1,
      finishedAt: null,
    });
    advance(5000);
    fleet.connect(hello("b"), link());
    expect(fleet.rollout.view()).toMatchObject({ pending: 1, offline: 0 });
    fleet.applyResult("b", ok(2));
    expect(fleet.rollout.view()).toMatchObject({ done: 2, pending: 0, finishedAt: 6000 });
  });

  it("a finished rollout keeps its duration when a node reconnects later", () => {
    const { fleet, desired, advance } = setup();
    const a = link();
    fleet.connect(hello("a"), a);
    desired.revision = 2;
    fleet.desiredChanged(desired);
    fleet.applyResult("a", ok(2));
    const finished = fleet.rollout.view()!;
    advance(60_000);
    fleet.disconnect("a", a, "restart");
    fleet.connect(hello("a"), link());
    fleet.connect(hello("late"), link());
    fleet.applyResult("late", ok(2));
    expect(fleet.rollout.view()).toMatchObject({
      startedAt: finished.startedAt,
      finishedAt: finished.finishedAt,
      total: 1,
      done: 1,
      late: { done: 1, pending: 0, failed: 0 },
    });
  });

  it("a node that comes back in observe mode is no longer waited for", () => {
    const { fleet } = saveWhileBIsOffline();
    fleet.connect(hello("b", "observe"), link());
    expect(fleet.rollout.view()).toMatchObject({ total: 1, done: 1, pending: 0 });
    expect(fleet.rollout.view()?.finishedAt).not.toBeNull();
  });
});

describe("FleetState: a drift an apply of the revision the node ran changed back is told", () => {
  // The bug: a canary's rules edited while the dashboard was stopped were changed back by the
  // revision pushed at reconnect; its timeline said only "applying revision 2 ... changed the
  // rules" and its wave was released on schedule.
  type Step =
    | { connect: number | null }
    | { snapshot: "drifted" | "in-sync"; revision: number }
    | { apply: ApplyResult }
    | { save: number };
  const d = desiredChain(defaultConfig(), DEFAULT_FLAGS, "ipv4");
  const rules = (drifted: boolean) => [
    snapshotOf({
      family: "ipv4" as const,
      chain: [
        `-N ${d.chain}`,
        ...d.rules.map((r) => r.line).filter((l) => !drifted || !l.includes("-d 10.0.0.0/8 ")),
      ],
      postrouting: [jumpRuleLine(d.chain)],
    }),
  ];
  const apply = (
    revision: number,
    trigger: ApplyResult["trigger"],
    changed: boolean,
    ok = true,
  ): { apply: ApplyResult } => ({
    apply: {
      ...okResult(revision),
      trigger,
      changed,
      ok,
      ...(ok ? {} : { error: "iptables-restore: line 3 failed" }),
    },
  });
  const unknown =
    "what differed is not known \\(no read of the drifted rules reached the dashboard\\)";
  const atReconnect =
    "its rules had drifted from revision 1 while the dashboard did not hear from it; re-applying revision 1 at reconnect changed them back";
  const table: { desc: string; input: Step[]; want: RegExp | null }[] = [
    {
      desc: "reconnect: the revision it said at hello, re-applied, changed the rules (no read first)",
      input: [{ connect: 1 }, apply(1, "desired", true)],
      want: new RegExp(`^${atReconnect}; ${unknown}$`),
    },
    {
      desc: "reconnect: its first read showed the drift before the apply (hidden as applying)",
      input: [
        { connect: 1 },
        { snapshot: "drifted", revision: 1 },
        { snapshot: "in-sync", revision: 1 }, // the post-apply read, folded into the result
        apply(1, "desired", true),
      ],
      want: new RegExp(`^${atReconnect}; what differed: missing 10\\.0\\.0\\.0/8$`),
    },
    {
      desc: "a periodic resync of the revision it applied here changed the rules, no drift seen",
      input: [
        { connect: null },
        apply(1, "desired", true),
        { snapshot: "in-sync", revision: 1 },
        apply(1, "periodic", true),
      ],
      want: new RegExp(
        `^its rules had drifted from revision 1 without the dashboard seeing it drifted; periodic resync of revision 1 changed them back; ${unknown}$`,
      ),
    },
    {
      desc: "the reporter's own heal, its drifted read hidden by an apply under way",
      input: [{ connect: 1 }, { snapshot: "drifted", revision: 1 }, apply(1, "heal", true)],
      want: /^its rules had drifted from revision 1 without the dashboard seeing it drifted; heal of drift with revision 1 changed them back; what differed: missing 10\.0\.0\.0\/8$/,
    },
    {
      desc: "a drift shown live, then resynced: no second word (its status entry told it)",
      input: [
        { connect: 1 },
        apply(1, "desired", false),
        { snapshot: "in-sync", revision: 1 },
        { snapshot: "drifted", revision: 1 },
        apply(1, "resync", true),
      ],
      want: null,
    },
    {
      desc: "a new node's first apply",
      input: [{ connect: null }, apply(1, "desired", true)],
      want: null,
    },
    {
      desc: "reconnect: the rules were already right",
      input: [{ connect: 1 }, apply(1, "desired", false)],
      want: null,
    },
    {
      desc: "a new revision, applied",
      input: [{ connect: 1 }, apply(1, "desired", false), { save: 2 }, apply(2, "desired", true)],
      want: null,
    },
    {
      desc: "back to the revision it ran before another (an abort, a rollback)",
      input: [
        { connect: 1 },
        apply(1, "desired", false),
        { save: 2 },
        apply(2, "desired", true),
        { save: 1 },
        apply(1, "desired", true),
      ],
      want: null,
    },
    {
      desc: "reconnect with another revision than the one it said at hello",
      input: [{ connect: 1 }, { save: 2 }, apply(2, "desired", true)],
      want: null,
    },
    {
      desc: "an apply at reporter start (a reboot empties the tables)",
      input: [{ connect: 1 }, apply(1, "startup", true)],
      want: null,
    },
    {
      desc: "after a failed apply its rules are not known: the next one is no drift",
      input: [{ connect: 1 }, apply(1, "desired", false, false), apply(1, "resync", true)],
      want: null,
    },
  ];
  /** Runs the steps on node "a": its drift entries, and the drift-healed signals' messages. */
  function run(
    steps: Step[],
    replicas: { perReplicaNumbers?: boolean; resourceVersion?: string } = {},
  ): { drift: string[]; signals: string[] } {
    let desired = {
      revision: 1,
      resourceVersion: replicas.resourceVersion ?? "1",
      config: defaultConfig(),
    };
    const signals: string[] = [];
    const fleet = testFleet(() => desired, {
      onSignal: (s) => {
        if (s.kind === "drift-healed") signals.push(s.message);
      },
      perReplicaNumbers: replicas.perReplicaNumbers,
    });
    for (const step of steps) {
      if ("connect" in step)
        fleet.connect(helloFor("a", { appliedRevision: step.connect }), link());
      else if ("save" in step) {
        desired = { ...desired, revision: step.save, resourceVersion: `${step.save}` };
        fleet.desiredChanged(desired);
      } else if ("snapshot" in step)
        fleet.snapshot("a", {
          type: "snapshot",
          v: 2,
          seq: 0,
          takenAt: 0,
          linux: rules(step.snapshot === "drifted"),
          appliedRevision: step.revision,
        });
      else fleet.applyResult("a", step.apply);
    }
    const events = fleet.nodes.get("a")!.events.list();
    return { drift: events.filter((e) => e.kind === "drift").map((e) => e.message), signals };
  }
  it("the read that showed the drift is not the apply's outcome when its own read comes after", () => {
    const desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
    const fleet = testFleet(() => desired);
    fleet.connect(helloFor("a", { appliedRevision: 1 }), link());
    const read = (drifted: boolean) => ({
      type: "snapshot" as const,
      v: 2 as const,
      seq: 0,
      takenAt: 0,
      linux: rules(drifted),
      appliedRevision: 1,
    });
    fleet.snapshot("a", read(true));
    // A reporter without apply-result-snapshot: the result first, its read after.
    fleet.applyResult("a", apply(1, "desired", true).apply);
    const n = fleet.nodes.get("a")!;
    expect(n.status).toBe("applying");
    fleet.snapshot("a", read(false));
    expect(n.status).toBe("in-sync");
    const texts = n.events.list().map((e) => e.message);
    expect(texts).not.toContainEqual(expect.stringMatching(/→ drifted/));
  });
  for (const c of table)
    it(c.desc, () => {
      const { drift, signals } = run(c.input);
      expect(drift).toEqual(c.want === null ? [] : [expect.stringMatching(c.want)]);
      expect(signals).toEqual(drift);
    });

  // Every replica active with config sources: each replica numbers merges itself, so the merged
  // revision 1 a node named at hello may be another replica's number for another merge.
  const reconnect: Step[] = [{ connect: 1 }, apply(1, "desired", true)];
  it.each([
    {
      desc: "a merged revision named at hello, replicas numbering their own: either, not a drift",
      input: { perReplicaNumbers: true, resourceVersion: "7+1@r1" },
      want: {
        drift: [
          expect.stringMatching(
            /^re-applying revision 1 at reconnect changed its rules: they had drifted .*, or the revision 1 its reporter named at hello was another replica's number for another merge .*not counted as a drift$/,
          ),
        ],
        signals: [],
      },
    },
    {
      desc: "a ConfigMap revision (one source): numbered alike everywhere, a drift",
      input: { perReplicaNumbers: true, resourceVersion: "7" },
      want: {
        drift: [expect.stringMatching(new RegExp(`^${atReconnect}`))],
        signals: [expect.any(String)],
      },
    },
    {
      desc: "a merged revision, one replica: its own numbers, a drift",
      input: { perReplicaNumbers: false, resourceVersion: "7+1@r1" },
      want: {
        drift: [expect.stringMatching(new RegExp(`^${atReconnect}`))],
        signals: [expect.any(String)],
      },
    },
  ])("$desc", ({ input, want }) => {
    expect(run(reconnect, input)).toEqual(want);
  });
});
