// StagedRollouts: the owner counts the nodes other replicas hold by their NodeMasquerade.
import { compareNodeOrder, type WavesStrategy } from "@masq/shared";
import { helloFor, remoteStatusFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import { configDigest } from "./staged-follow.js";
import { RECONNECT_GRACE_MS, REPORT_WAIT_MAX_MS } from "./staged-offline.js";
import { applied, remote, setup, v1, v2, WAVES } from "./staged-rollout.fixture.js";

describe("the owner counts nodes other replicas hold by their NodeMasquerade", () => {
  const here = ["a", "b"];
  const there = ["r-1", "r-2"];
  const order = [...here, ...there].sort(compareNodeOrder);
  const remoteCanary = order.find((n) => there.includes(n))!;
  // A canary of every node up to the first one held elsewhere.
  const strategy: WavesStrategy = { ...WAVES, canary: { count: order.indexOf(remoteCanary) + 1 } };
  const canary = order.slice(0, order.indexOf(remoteCanary) + 1);
  const st = (o: Partial<NodeMasqueradeStatus>): NodeMasqueradeStatus => remoteStatusFor(o);
  const start = () => {
    const statuses = new Map(there.map((n) => [n, st({ desiredRevision: 1 })]));
    const t = setup(here, [], { reason: null, active: true }, { remote: remote(there, statuses) });
    t.save(v2, strategy);
    for (const n of canary) if (here.includes(n)) applied(t.fleet, n, 2);
    const report = (o: Partial<NodeMasqueradeStatus>) => {
      statuses.set(remoteCanary, st(o));
      t.staged.remoteChanged([remoteCanary]);
    };
    return { t, report };
  };
  const cases: {
    desc: string;
    input: Partial<NodeMasqueradeStatus>[];
    want: { phase: string; message: RegExp; place: string };
  }[] = [
    {
      desc: "the canary held elsewhere applied: the wave settles (paused until promoted)",
      input: [{ appliedRevision: 2 }],
      want: {
        phase: "paused",
        message: /^the canary applied; paused until promoted$/,
        place: "applied",
      },
    },
    {
      desc: "it failed to apply: paused, saying which replica holds it",
      input: [{ health: "error", message: "apply failed: iptables-restore: line 3 failed" }],
      want: {
        phase: "paused",
        message: new RegExp(
          `^paused: ${remoteCanary} failed to apply: apply failed: iptables-restore: line 3 failed \\(held by replica dash-b\\)$`,
        ),
        place: "failed",
      },
    },
    {
      desc: "it drifted after applying: paused",
      input: [
        { appliedRevision: 2 },
        { appliedRevision: 2, health: "drifted", message: "1 rule differs" },
      ],
      want: {
        phase: "paused",
        message: new RegExp(`^paused: ${remoteCanary} drifted from revision 2: 1 rule differs`),
        place: "failed",
      },
    },
    {
      desc: "not applied yet: the wave waits for it (never counted unseen)",
      input: [{ health: "applying" }],
      want: {
        phase: "progressing",
        message: /^the canary is applying the revision$/,
        place: "applying",
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const { t, report } = start();
    expect(t.staged.view()?.phase).toBe("progressing");
    for (const o of input) report(o);
    const v = t.staged.view()!;
    expect(v.phase).toBe(want.phase);
    expect(v.message).toMatch(want.message);
    expect(t.staged.placeOf(remoteCanary)?.progress).toBe(want.place);
  });

  it("a canary held elsewhere switched to observe mode: out of its wave, never counted applied", () => {
    const { t, report } = start();
    report({ mode: "observe", appliedRevision: 1 });
    const w0 = t.staged.view()!.waves[0]!;
    expect([...w0.appliedNodes, ...w0.pendingNodes]).not.toContain(remoteCanary);
    expect(w0.total).toBe(canary.length - 1);
  });

  // break7: the holder's rewrite of a deleted object waits in its write queue behind a mass
  // delete; a fixed 15 s dropped the node (no longer waited for) while it was queued.
  const deleted: {
    desc: string;
    input: { behindFor: number };
    want: { keptAt: number; droppedAt: number };
  }[] = [
    {
      desc: "every replica's rewrites written: dropped after 15 s",
      input: { behindFor: 0 },
      want: { keptAt: 14_000, droppedAt: 16_000 },
    },
    {
      desc: "a replica's rewrites behind for 60 s: kept until they are written",
      input: { behindFor: 60_000 },
      want: { keptAt: 59_000, droppedAt: 61_000 },
    },
    {
      desc: "a replica that never says: dropped after the bound",
      input: { behindFor: Number.POSITIVE_INFINITY },
      want: { keptAt: REPORT_WAIT_MAX_MS - 1000, droppedAt: REPORT_WAIT_MAX_MS + 1000 },
    },
  ];
  it.each(deleted)("its NodeMasquerade deleted: $desc", ({ input, want }) => {
    const statuses = new Map(there.map((n) => [n, st({ desiredRevision: 1 })]));
    let at = 0;
    const behind = () => (at < input.behindFor ? ["dash-b: 1 reconnects not yet written"] : []);
    const t = setup(
      here,
      [],
      { reason: null, active: true },
      {
        remote: remote(there, statuses, behind),
      },
    );
    t.save(v2, strategy);
    for (const n of canary) if (here.includes(n)) applied(t.fleet, n, 2);
    statuses.delete(remoteCanary);
    t.staged.remoteChanged([remoteCanary]);
    expect(t.staged.view()!.phase).toBe("progressing"); // not dropped at once (break5)
    const to = (ms: number) => {
      t.advance(ms - at);
      at = ms;
      t.staged.tick();
    };
    to(want.keptAt);
    expect(t.staged.view()!.waves[0]!.total).toBe(canary.length);
    to(want.droppedAt);
    const v = t.staged.view()!;
    expect(v.waves[0]!.total).toBe(canary.length - 1);
    expect(v.phase).toBe("paused");
  });

  // Issue 17: the Leases say every rewrite is written, but this replica's watch has not
  // delivered the holder's rewrite yet; the API server has it.
  const deletedFresh: { desc: string; input: { exists: boolean }; want: { dropped: boolean } }[] = [
    {
      desc: "the API server holds it again (the watch lags): still waited for",
      input: { exists: true },
      want: { dropped: false },
    },
    {
      desc: "the API server holds none either: no longer waited for",
      input: { exists: false },
      want: { dropped: true },
    },
  ];
  it.each(deletedFresh)(
    "its NodeMasquerade deleted, read fresh: $desc",
    async ({ input, want }) => {
      const statuses = new Map(there.map((n) => [n, st({ desiredRevision: 1 })]));
      const asked: string[] = [];
      const existsFresh = async (name: string) => {
        asked.push(name);
        return input.exists;
      };
      const t = setup(
        here,
        [],
        { reason: null, active: true },
        { remote: { ...remote(there, statuses), existsFresh } },
      );
      t.save(v2, strategy);
      for (const n of canary) if (here.includes(n)) applied(t.fleet, n, 2);
      statuses.delete(remoteCanary);
      t.staged.remoteChanged([remoteCanary]);
      t.advance(16_000);
      t.staged.tick();
      // Not dropped before the API server answers.
      expect(t.staged.view()!.waves[0]!.total).toBe(canary.length);
      await new Promise((r) => setImmediate(r));
      t.advance(1000);
      t.staged.tick();
      expect(asked[0]).toBe(remoteCanary);
      expect(t.staged.view()!.waves[0]!.total).toBe(canary.length - (want.dropped ? 1 : 0));
    },
  );

  it("20,000 nodes held elsewhere applying one by one settle the wave in linear time (break5)", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `ip-10-0-${i}.ec2.internal`);
    const statuses = new Map(many.map((n) => [n, st({ desiredRevision: 1 })]));
    const t = setup(["a"], [], { reason: null, active: true }, { remote: remote(many, statuses) });
    t.save(v2, { ...WAVES, canary: { percent: 50 } });
    applied(t.fleet, "a", 2);
    const canaryNodes = t.staged.view()!.waves[0]!.total;
    const started = performance.now();
    // In hash order, as they were sent: each NodeMasquerade change is one event.
    for (const n of [...many].sort(compareNodeOrder)) {
      statuses.set(n, st({ appliedRevision: 2 }));
      t.staged.remoteChanged([n]);
    }
    const ms = performance.now() - started;
    expect(t.staged.view()!.phase).toBe("paused");
    expect(canaryNodes).toBeGreaterThan(9000);
    expect(ms, `${Math.round(ms)} ms`).toBeLessThan(3000);
  });

  /** The canary held elsewhere reported offline `afterMs` (the owner's clock) after applying. */
  const offlineAfter = (o: { afterMs: number; holderAheadMs: number; between?: number }) => {
    const { t, report } = start();
    report({ appliedRevision: 2 });
    if (o.between !== undefined) {
      // A status change while connected (a health or drift refresh): not an apply.
      t.advance(o.between);
      report({ appliedRevision: 2, message: "drift checked" });
    }
    t.advance(o.afterMs - (o.between ?? 0));
    const off = new Date(t.now() + o.holderAheadMs).toISOString();
    report({
      appliedRevision: 2,
      connected: false,
      health: "offline",
      conditions: [
        { type: "Connected", status: "False", reason: "", message: "", lastTransitionTime: off },
      ],
    });
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    return t.staged.view()!;
  };

  it("it went offline right after applying: paused", () => {
    // Seen applied at 1000 ms (the test clock), offline 3 s later on this replica's clock.
    expect(offlineAfter({ afterMs: 3000, holderAheadMs: 0 }).message).toBe(
      `paused: ${remoteCanary} went offline 3 s after applying (held by replica dash-b), and no replica held it once every replica had written its reconnects`,
    );
  });

  // break7: the time it went offline is the holder's clock (lastTransitionTime), the time it
  // applied the owner's: a skew between replicas moved the one against the other.
  it("went offline 3 s after applying, the holder's clock 2 min ahead of the owner's: still paused", () => {
    const v = offlineAfter({ afterMs: 3000, holderAheadMs: 120_000 });
    expect(v.message).toMatch(
      new RegExp(`^paused: ${remoteCanary} went offline 3 s after applying`),
    );
  });

  it("went offline 10 min after applying, the holder's clock 15 min behind: not 'soon after applying'", () => {
    const v = offlineAfter({ afterMs: 600_000, holderAheadMs: -900_000 });
    expect(v.pause?.kind).not.toBe("failure");
  });

  // break7: every change of its status while applied and connected was taken as its apply.
  it("went offline 10 min after applying, its status refreshed just before: not 'soon after applying'", () => {
    const v = offlineAfter({ afterMs: 600_000, holderAheadMs: 0, between: 595_000 });
    expect(v.pause?.kind).not.toBe("failure");
  });

  // break7: a replica died holding the canary; its reporter reconnected to dash-c within 10 s,
  // but dash-c's status writes were behind (a dead replica's 13,000 nodes at 50/s each over the
  // survivors: ~60 s), so after a fixed 15 s the owner paused saying it "went offline".
  const deadHolder = (
    behind: (since: number) => string[],
    connectedFresh?: (name: string) => Promise<boolean>,
    holderUnknown?: (replica: string) => string | undefined,
  ) => {
    const statuses = new Map(there.map((n) => [n, st({ desiredRevision: 1 })]));
    const t = setup(
      here,
      [],
      { reason: null, active: true },
      {
        remote: { ...remote(there, statuses, behind), connectedFresh, holderUnknown },
      },
    );
    t.save(v2, strategy);
    for (const n of canary) if (here.includes(n)) applied(t.fleet, n, 2);
    const report = (o: Partial<NodeMasqueradeStatus>) => {
      statuses.set(remoteCanary, st(o));
      t.staged.remoteChanged([remoteCanary]);
    };
    report({ appliedRevision: 2 });
    t.advance(2000);
    // The singleton holder marks it: dash-b stopped renewing its Lease.
    const off = new Date(t.now()).toISOString();
    report({
      appliedRevision: 2,
      connected: false,
      health: "unknown",
      message: "replica dash-b stopped renewing its Lease",
      conditions: [
        { type: "Connected", status: "False", reason: "", message: "", lastTransitionTime: off },
      ],
    });
    return { t, report };
  };

  it("went offline while the survivors' reconnect writes are behind: waits, says so, and goes on once reported", () => {
    let late = true;
    const { t, report } = deadHolder(() =>
      late ? ["dash-c: 1200 reconnects not yet written"] : [],
    );
    for (let i = 0; i < 45; i++) {
      t.advance(1000);
      t.staged.tick();
    }
    const v = t.staged.view()!;
    expect(v.pause?.kind).not.toBe("failure");
    expect(v.message).toMatch(
      new RegExp(
        `No wave goes on until it is known whether ${remoteCanary} reconnected: offline right after applying, not yet reported connected by any replica \\(waiting for the replicas' reconnects to be written: dash-c: 1200 reconnects not yet written;`,
      ),
    );
    // dash-c's write lands: it holds the canary, connected.
    report({ appliedRevision: 2, replica: "dash-c", connected: true });
    late = false;
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()!.message).toBe("the canary applied; paused until promoted");
    expect(t.staged.view()!.actions.map((a) => a.action)).not.toContain("pause");
  });

  // Issue 17: the Leases say every reconnect is written, but this replica's NodeMasquerade watch
  // has not delivered dash-c's write yet; the API server has it.
  const freshCases: {
    desc: string;
    input: { connected: boolean };
    want: { paused: boolean };
  }[] = [
    {
      desc: "the watch lags, the API server names a connected holder: not gone, not paused",
      input: { connected: true },
      want: { paused: false },
    },
    {
      desc: "the API server says connected nowhere too: paused as gone",
      input: { connected: false },
      want: { paused: true },
    },
  ];
  it.each(freshCases)("$desc", async ({ input, want }) => {
    const asked: string[] = [];
    const { t } = deadHolder(
      () => [],
      async (name) => {
        asked.push(name);
        return input.connected;
      },
    );
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    // The verdict waits for the read.
    expect(t.staged.view()!.pause?.kind).not.toBe("failure");
    await new Promise((r) => setImmediate(r));
    t.advance(1000);
    t.staged.tick();
    expect(asked).toEqual([remoteCanary]);
    expect(t.staged.view()!.pause?.kind === "failure").toBe(want.paused);
    if (!want.paused)
      expect(t.staged.view()!.message).toBe("the canary applied; paused until promoted");
  });

  it("truly gone: pauses as soon as every replica has written its reconnects", () => {
    let late = true;
    const { t } = deadHolder(() => (late ? ["dash-c: 3 reconnects not yet written"] : []));
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    expect(t.staged.view()!.pause?.kind).not.toBe("failure");
    late = false;
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()!.message).toBe(
      `paused: ${remoteCanary} went offline 2 s after applying (held by replica dash-b), and no replica held it once every replica had written its reconnects`,
    );
  });

  // Issue 17: dash-b is alive but cannot renew its Lease (API server errors for it): the
  // singleton marked the canary disconnected by the Lease alone, and the canary may still be
  // connected to dash-b. Before, it was paused 30 s later as gone ("no replica held it…").
  it("its holder stopped renewing its Lease, maybe alive: never gone; at the bound paused as not known", async () => {
    const unknown =
      "replica dash-b stopped renewing its Lease: whether it is alive and still holds the node is not known";
    const { t } = deadHolder(
      () => [],
      async () => false,
      (r) => (r === "dash-b" ? unknown : undefined),
    );
    for (let i = 0; i < 60; i++) {
      t.advance(1000);
      t.staged.tick();
      await new Promise((r) => setImmediate(r));
    }
    expect(t.staged.view()!.pause?.kind).not.toBe("failure");
    expect(t.staged.view()!.message).toContain(unknown);
    t.advance(REPORT_WAIT_MAX_MS - 60_000);
    t.staged.tick();
    await new Promise((r) => setImmediate(r));
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()!.message).toBe(
      `paused: ${remoteCanary} went offline 2 s after applying (held by replica dash-b); whether it reconnected was not known: no replica reported it connected within 300 s (${unknown})`,
    );
  });

  it("never reported either way: pauses after the bound, saying it is not known", () => {
    const { t } = deadHolder(() => ["dash-c: no Lease renewal seen since"]);
    t.advance(REPORT_WAIT_MAX_MS - 1000);
    t.staged.tick();
    expect(t.staged.view()!.pause?.kind).not.toBe("failure");
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()!.message).toBe(
      `paused: ${remoteCanary} went offline 2 s after applying (held by replica dash-b); whether it reconnected was not known: no replica reported it connected within 300 s (dash-c: no Lease renewal seen since)`,
    );
  });

  it("it went offline, then its NodeMasquerade says another replica holds it connected: not paused", () => {
    const { t, report } = start();
    report({ appliedRevision: 2 });
    const off = new Date(1000 + 3000).toISOString();
    const condition = { type: "Connected", reason: "", message: "", lastTransitionTime: off };
    report({
      appliedRevision: 2,
      connected: false,
      health: "offline",
      conditions: [{ ...condition, status: "False" }],
    });
    t.advance(4000);
    report({ appliedRevision: 2, replica: "dash-c", connected: true });
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    expect(t.staged.view()!.message).toBe("the canary applied; paused until promoted");
  });

  // Issue 17: the first offline was suspected, then a fresh read found the canary connected to
  // dash-c (cleared); it went offline again 20 s later, still soon after applying. Before, the
  // first offline used up its apply time, and the second was never suspected: its wave settled.
  const again: {
    desc: string;
    input: { seenConnected: boolean };
    want: { message: string };
  }[] = [
    {
      desc: "seen back on the watch, then offline again: suspected again and paused",
      input: { seenConnected: true },
      want: {
        message: `paused: ${remoteCanary} went offline 21 s after applying (held by replica dash-c), and no replica held it once every replica had written its reconnects`,
      },
    },
    {
      desc: "its return coalesced away by the holder's write queue (a new offline only): suspected again",
      input: { seenConnected: false },
      want: {
        message: `paused: ${remoteCanary} went offline 21 s after applying (held by replica dash-c), and no replica held it once every replica had written its reconnects`,
      },
    },
  ];
  it.each(again)(
    "offline, cleared by a fresh read, offline again: $desc",
    async ({ input, want }) => {
      let connectedThere = true;
      const { t, report } = deadHolder(
        () => [],
        async () => connectedThere,
      );
      t.advance(RECONNECT_GRACE_MS);
      t.staged.tick();
      await new Promise((r) => setImmediate(r));
      t.advance(1000);
      t.staged.tick();
      // Cleared: the API server names a connected holder.
      expect(t.staged.view()!.message).toBe("the canary applied; paused until promoted");
      if (input.seenConnected) report({ appliedRevision: 2, replica: "dash-c", connected: true });
      t.advance(3000);
      const off = new Date(t.now()).toISOString();
      report({
        appliedRevision: 2,
        replica: "dash-c",
        connected: false,
        health: "offline",
        conditions: [
          { type: "Connected", status: "False", reason: "", message: "", lastTransitionTime: off },
        ],
      });
      connectedThere = false;
      t.advance(RECONNECT_GRACE_MS);
      t.staged.tick();
      expect(t.staged.view()!.pause?.kind).not.toBe("failure"); // the verdict reads first
      await new Promise((r) => setImmediate(r));
      t.advance(1000);
      t.staged.tick();
      // This time the API server says connected nowhere.
      expect(t.staged.view()!.message).toBe(want.message);
    },
  );

  // Issue 17: the previous owner suspected the canary (offline 2 s after applying) and died
  // before judging it; its suspects were in its memory. The new owner counted the canary
  // applied, and the timed pause released wave 1 on missing evidence.
  describe("a new owner after a takeover", () => {
    const timed: WavesStrategy = { ...strategy, pause: { kind: "duration", seconds: 30 } };
    const takeover = async (canaryNow: Partial<NodeMasqueradeStatus>) => {
      const old = setup(here, [], { reason: null, active: true }, { remote: remote(there) });
      old.save(v2, timed);
      await old.staged.flush();
      const statuses = new Map(there.map((n) => [n, st({ desiredRevision: 1 })]));
      statuses.set(remoteCanary, st(canaryNow));
      const t = setup(
        here,
        [],
        { reason: null, active: true },
        { remote: remote(there, statuses), replica: "dash-c" },
      );
      // Applied v2 under the old owner, and said so at hello here (its state file): a revision
      // never sent a node that did not name it at hello is not taken (fleet-state.ts).
      for (const n of canary.filter((c) => here.includes(c))) {
        t.fleet.connect(helloFor(n, { appliedRevision: 2 }), t.links.get(n)!);
        applied(t.fleet, n, 2);
      }
      t.saved.push(old.saved.at(-1));
      await t.staged.restore(
        () => v2,
        async (r) => (r === "1" ? v1 : null),
      );
      t.staged.remoteChanged(there); // the NodeMasquerade watch's first list
      for (let i = 0; i < 40; i++) {
        t.advance(1000);
        t.staged.tick();
      }
      return t;
    };
    const offline = {
      appliedRevision: 2,
      connected: false,
      health: "offline" as const,
      desiredRevision: 2,
    };

    it("the canary offline after applying: no wave released; paused, saying what is known", async () => {
      const t = await takeover(offline);
      const v = t.staged.view()!;
      expect(v.step).toBe(0);
      expect(v.message).toBe(
        `paused: ${remoteCanary} was offline after applying (held by replica dash-b) when replica dash-c took the rollout over (how soon after applying is not known: the previous owner's view of it was not kept), and no replica held it once every replica had written its reconnects`,
      );
      for (const n of t.rest.filter((x) => here.includes(x)))
        expect(t.fleet.desiredOf(n)?.revision).toBe(1);
    });

    // Merged sources: the holder numbers revisions its own way; its 5 is v2's config here.
    it("the canary offline after applying v2 numbered 5 by its holder: read as 2, paused alike", async () => {
      const digest = configDigest(v2.config);
      const t = await takeover({
        ...offline,
        appliedRevision: 5,
        desiredRevision: 5,
        desiredConfig: digest,
      });
      expect(t.staged.view()!.step).toBe(0);
      expect(t.staged.view()!.message).toMatch(
        new RegExp(
          `^paused: ${remoteCanary} was offline after applying \\(held by replica dash-b\\)`,
        ),
      );
    });

    it("the canary connected (applied, held by another replica): the timed pause goes on as before", async () => {
      const t = await takeover({ appliedRevision: 2, desiredRevision: 2 });
      expect(t.staged.view()!.step).toBe(1);
    });
  });
});
