import { defaultConfig, NOT_HEARD_SINCE_RESTART } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import type { ReporterLink } from "./fleet-state.js";
import { toSummary } from "./node.js";
import { NodeExpiry } from "./node-expiry.js";
import type { RosterEntry } from "./node-roster.js";
import { testFleet } from "./post-apply.fixture.js";

const STARTED = 50_000;
const entry = (name: string, over: Partial<RosterEntry> = {}): RosterEntry => {
  const { type: _t, v: _v, ...hello } = helloFor(name);
  return {
    hello,
    lastSeenAt: 1_000,
    appliedRevision: 2,
    status: "in-sync",
    summary: "in sync",
    ...over,
  };
};

function setup() {
  const clock = { now: STARTED };
  const desired = { revision: 2, resourceVersion: "2", config: defaultConfig() };
  const fleet = testFleet(() => desired, { now: () => clock.now });
  return { fleet, clock };
}

const link = (): ReporterLink => ({ send: () => {}, close: () => {} });

describe("a node restored from the roster", () => {
  it("is offline, seen before the restart, and says its status then is from before", () => {
    const { fleet } = setup();
    fleet.restore([entry("gone")], STARTED);
    const row = toSummary(fleet.nodes.get("gone")!);
    expect(row).toMatchObject({
      status: "offline",
      connected: false,
      liveness: "offline",
      lastSeenAt: 1_000,
      lastReportAt: null,
      appliedRevision: 2,
      notHeardSinceStart: STARTED,
      summary: `${NOT_HEARD_SINCE_RESTART} (before it: in-sync, in sync)`,
      notKnownHere: {
        fields: ["severity"],
        reason: expect.stringMatching(/since the dashboard restarted/),
      },
    });
    expect(fleet.countByStatus()).toMatchObject({ offline: 1, "in-sync": 0 });
    expect(fleet.nodes.get("gone")?.events.list()[0]).toMatchObject({ kind: "restored" });
  });

  it("is replaced by its reporter's hello, as any offline node is", () => {
    const { fleet } = setup();
    fleet.restore([entry("back")], STARTED);
    fleet.connect(helloFor("back"), link());
    const n = fleet.nodes.get("back")!;
    expect(n.restored).toBeUndefined();
    expect(toSummary(n)).not.toHaveProperty("notHeardSinceStart");
    expect(toSummary(n)).toMatchObject({ connected: true, liveness: "live", lastSeenAt: STARTED });
  });

  it("never replaces a node whose hello came first", () => {
    const { fleet } = setup();
    fleet.connect(helloFor("first"), link());
    fleet.restore([entry("first")], STARTED);
    expect(fleet.nodes.get("first")).toMatchObject({ connected: true, restored: undefined });
  });

  it("is an offline target of a rollout started after the restart", () => {
    const { fleet } = setup();
    fleet.restore([entry("gone", { appliedRevision: 1 })], STARTED);
    fleet.desiredChanged({ revision: 3, resourceVersion: "3", config: defaultConfig() });
    expect(fleet.rolloutView()).toMatchObject({
      total: 1,
      pending: 1,
      offline: 1,
      unseen: 1,
      done: 0,
    });
  });

  it("is forgotten by DELETE (forget) and by expiry, by its last seen time from before", () => {
    const { fleet, clock } = setup();
    fleet.restore(
      [entry("old", { lastSeenAt: 1_000 }), entry("new", { lastSeenAt: 40_000 })],
      STARTED,
    );
    expect(fleet.forget("new")).toEqual({ ok: true });
    fleet.restore([entry("new", { lastSeenAt: 40_000 })], STARTED);
    const expiry = new NodeExpiry(fleet, {
      offlineTtlMs: 30_000,
      log: silentLogger(),
      now: () => clock.now,
    });
    expiry.sweep();
    expect([...fleet.nodes.keys()]).toEqual(["new"]);
  });
});

describe("a restored node's timeline", () => {
  const kept = [
    { time: 900, kind: "status", message: "in-sync → drifted: rule 3 missing" },
    { time: 950, kind: "healed", message: "resync put the rules back" },
  ];

  it("starts with its events from before the restart, marked, then the restart", () => {
    const { fleet } = setup();
    fleet.restore([entry("gone")], STARTED, new Map([["gone", kept]]));
    const list = fleet.nodes.get("gone")!.events.list();
    expect(list.map((e) => [e.kind, e.beforeRestart])).toEqual([
      ["status", true],
      ["healed", true],
      ["restored", undefined],
    ]);
    expect(list.slice(0, 2)).toEqual(kept.map((e) => ({ ...e, beforeRestart: true })));
  });

  it("keeps them once its reporter says hello, before the hello", () => {
    const { fleet } = setup();
    fleet.restore([entry("back")], STARTED, new Map([["back", kept]]));
    fleet.connect(helloFor("back"), link());
    const kinds = fleet.nodes
      .get("back")!
      .events.list()
      .map((e) => e.kind);
    expect(kinds.slice(0, 4)).toEqual(["status", "healed", "restored", "connected"]);
  });
});
