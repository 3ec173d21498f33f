// The fleet-wide counts (countByStatus, rolloutOf) run over every node on each change-feed
// flush, so they judge nodes held elsewhere without building their summaries. They must count
// exactly what the summaries (fleetNodes, as the node list shows them) say, and so must the
// unbuilt rows a page of /api/nodes filters on (fleetEntries).
import type { NodeStatus, Rollout } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { FleetState } from "../fleet/fleet-state.js";
import { type NodeRecord, newRecord } from "../fleet/node.js";
import { RolloutTracker } from "../fleet/rollout.js";
import { remoteOutcome } from "../fleet/rollout-remote.js";
import {
  count,
  countByStatus,
  type FleetViewSources,
  fleetEntries,
  fleetNodes,
  type Outcome,
  type RemoteSummary,
  rolloutOf,
  uncount,
} from "./fleet-view.js";
import type { NodeMasquerade, NodeMasqueradeStatus } from "./node-masquerade.js";

const object = (name: string, status?: Partial<NodeMasqueradeStatus>): NodeMasquerade => ({
  metadata: { name },
  ...(status
    ? {
        status: {
          replica: "b",
          connected: true,
          health: "in-sync",
          appliedRevision: 7,
          mode: "enforce",
          message: "",
          observedAt: "2026-01-01T00:00:00Z",
          ...status,
        },
      }
    : {}),
});

function fleetOf(local: { name: string; connected: boolean; outcome?: Outcome }[]) {
  const nodes = new Map<string, NodeRecord>();
  const outcomes = new Map<string, Outcome>();
  for (const l of local) {
    const r = newRecord(helloFor(l.name));
    r.connected = l.connected;
    nodes.set(l.name, r);
    if (l.outcome) outcomes.set(l.name, l.outcome);
  }
  const countedAs = (n: string) => (outcomes.has(n) ? { target: outcomes.get(n) } : {});
  return { nodes, rollout: { countedAs }, knownRevisions: () => [] } as unknown as FleetState;
}

function view(fleet: FleetState, objects: NodeMasquerade[]): FleetViewSources {
  const byName = new Map(objects.map((o) => [o.metadata.name, o]));
  return {
    fleet,
    objects: { get: (n) => byName.get(n), values: () => byName.values() },
    replica: "a",
    liveness: (r) =>
      r === "dead" ? { live: false, reason: "replica dead is gone" } : { live: true },
  };
}

const outcomeOf = (r: RemoteSummary, revision: number): Outcome => {
  // Applied, its rules not judged by its holder yet: not done (rollout-done.ts, issue 17).
  const unjudged = r.connected && (r.status === "unknown" || r.status === "applying");
  if (r.appliedRevision === revision) return unjudged ? "awaiting-rules" : "done";
  // Failed only when its holder sent it this revision: an error on the stable one is pending.
  if (r.status === "error" && r.heldBy.desiredRevision === revision) return "failed";
  return r.connected ? "pending" : "offline";
};

/** The counts as the summaries say them (the definition the fast path must keep). */
function fromSummaries(s: FleetViewSources, local: Rollout) {
  const byStatus: Partial<Record<NodeStatus, number>> = {};
  const out = { ...local, late: { ...local.late } };
  const add = (o: Outcome, by: 1 | -1) => count(out, o, by);
  for (const n of fleetNodes(s)) {
    byStatus[n.status] = (byStatus[n.status] ?? 0) + 1;
    if ("hello" in n) continue;
    const r = n as RemoteSummary;
    if (r.mode !== "enforce" || r.heldBy.replica === "") continue;
    uncount(out, s.fleet.rollout.countedAs(r.name));
    add(outcomeOf(r, local.revision), 1);
  }
  if (out.pending > 0) out.finishedAt = null;
  return { byStatus, rollout: out };
}

const local: Rollout = {
  revision: 8,
  resourceVersion: "1",
  startedAt: 0,
  finishedAt: 5,
  total: 3,
  done: 1,
  pending: 2,
  offline: 2,
  failed: 0,
  late: { done: 0, pending: 0, failed: 0 },
};

describe("countByStatus and rolloutOf count what the summaries show", () => {
  const held = [
    { name: "h1", connected: true, outcome: "done" as const },
    { name: "h2", connected: false, outcome: "offline" as const },
    { name: "h3", connected: false, outcome: "offline" as const },
  ];
  const cases = [
    { desc: "held elsewhere, live, applied", input: [object("r1", { appliedRevision: 8 })] },
    { desc: "held elsewhere, live, not yet applied", input: [object("r1")] },
    {
      desc: "held elsewhere, applied, its rules not known to its holder yet",
      input: [object("r1", { appliedRevision: 8, health: "unknown" })],
    },
    {
      desc: "held elsewhere, applied, its holder waiting for the post-apply read",
      input: [object("r1", { appliedRevision: 8, health: "applying" })],
    },
    {
      desc: "held elsewhere, its apply of the revision failed",
      input: [object("r1", { health: "error", desiredRevision: 8 })],
    },
    {
      desc: "held elsewhere, errs on the stable revision (held back)",
      input: [object("r1", { health: "error", desiredRevision: 7 })],
    },
    { desc: "held elsewhere, drifted", input: [object("r1", { health: "drifted" })] },
    { desc: "disconnected from its holder", input: [object("r1", { connected: false })] },
    { desc: "its holder stopped renewing", input: [object("r1", { replica: "dead" })] },
    { desc: "names no replica", input: [object("r1", { replica: "" })] },
    { desc: "no status at all", input: [object("r1")].map(({ metadata }) => ({ metadata })) },
    { desc: "observe mode", input: [object("r1", { mode: "observe", health: "drifted" })] },
    {
      desc: "offline here, now held by another replica",
      input: [object("h2", { appliedRevision: 8 }), object("h3", { replica: "dead" })],
    },
    {
      desc: "offline here, its object still says here",
      input: [object("h2", { replica: "a", connected: false })],
    },
    { desc: "connected here: its record wins", input: [object("h1", { health: "error" })] },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const s = view(fleetOf(held), c.input);
      const want = fromSummaries(s, local);
      const got = countByStatus(s);
      expect(Object.fromEntries(Object.entries(got.byStatus).filter(([, v]) => v > 0))).toEqual(
        want.byStatus,
      );
      expect(got.total).toBe(
        held.length + c.input.filter((o) => !/^h/.test(o.metadata.name)).length,
      );
      expect(rolloutOf(s, local)).toEqual(want.rollout);
      const built = [...fleetNodes(s)];
      const entries = fleetEntries(s);
      expect(entries.map((e) => [e.name, e.status])).toEqual(built.map((n) => [n.name, n.status]));
      expect(entries.map((e) => e.node())).toEqual(built);
    });
});

describe("break7: a node counted here and now held elsewhere is counted once, by name", () => {
  /** This replica's own tracker: h1 and h2 its targets, the rollout finished (`late`: h3 joined after). */
  function finishedHere() {
    const tracker = new RolloutTracker();
    tracker.start(
      8,
      "1",
      [
        { name: "h1", connected: true },
        { name: "h2", connected: true },
      ],
      0,
    );
    tracker.mark("h1", "done", 1);
    tracker.mark("h2", "done", 2);
    tracker.mark("h3", "pending", 3);
    const fleet = fleetOf([
      { name: "h1", connected: false },
      { name: "h2", connected: true },
      { name: "h3", connected: false },
    ]);
    return { fleet: { ...fleet, rollout: tracker } as unknown as FleetState, tracker };
  }
  const cases: {
    desc: string;
    input: NodeMasquerade[];
    want: Pick<Rollout, "total" | "done" | "pending" | "late">;
  }[] = [
    {
      desc: "nothing held elsewhere",
      input: [],
      want: { total: 2, done: 2, pending: 0, late: { done: 0, pending: 1, failed: 0 } },
    },
    {
      desc: "a target that finished here moved to another replica (a rolling restart after the rollout)",
      input: [object("h1", { appliedRevision: 8 })],
      want: { total: 2, done: 2, pending: 0, late: { done: 0, pending: 1, failed: 0 } },
    },
    {
      desc: "a late node here moved to another replica and applied there",
      input: [object("h3", { appliedRevision: 8 })],
      want: { total: 3, done: 3, pending: 0, late: { done: 0, pending: 0, failed: 0 } },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const { fleet, tracker } = finishedHere();
    const got = rolloutOf(view(fleet, input), tracker.view()!);
    expect(got).toMatchObject(want);
  });
});

// issue 17: a canary held elsewhere that drifted after applying is failed on its card (the
// staged rollout's list); the bar counted it done by its holder's applied revision.
describe("rolloutOf and a staged rollout's failed node held elsewhere", () => {
  const cases: { desc: string; input: { failed: string[] }; want: Partial<Rollout> }[] = [
    { desc: "not counted failed: done", input: { failed: [] }, want: { done: 2, failed: 0 } },
    { desc: "counted failed: failed", input: { failed: ["r1"] }, want: { done: 1, failed: 1 } },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const s = view(fleetOf([]), [object("r1", { appliedRevision: 8, health: "drifted" })]);
    const mine = { ...local, total: 1, done: 1, pending: 0, offline: 0 };
    expect(rolloutOf(s, mine, new Set(input.failed))).toMatchObject({ total: 2, ...want });
  });
});

// Issue 17: the bar counted a node held elsewhere that erred while on the stable revision (its
// wave not released: never sent the new one) failed, the staged rollout's wave pending; both now
// count by @masq/shared's recordedOutcome. A drift after applying is failed by the staged
// rollout, and the bar counts what it lists failed (failedByStage), so they agree there too.
describe("the fleet bar and the staged rollout count a node held elsewhere alike", () => {
  const cases: {
    desc: string;
    input: Partial<NodeMasqueradeStatus>;
    want: "applied" | "pending" | "failed";
  }[] = [
    { desc: "applied, judged", input: { appliedRevision: 8 }, want: "applied" },
    {
      desc: "applied, its rules not judged yet",
      input: { appliedRevision: 8, health: "applying" },
      want: "pending",
    },
    {
      desc: "applied, drifted since",
      input: { appliedRevision: 8, health: "drifted" },
      want: "failed",
    },
    {
      desc: "its apply of the revision failed",
      input: { health: "error", desiredRevision: 8 },
      want: "failed",
    },
    {
      desc: "errs on the stable revision",
      input: { health: "error", desiredRevision: 7 },
      want: "pending",
    },
    {
      desc: "errs on the stable revision, offline",
      input: { health: "error", desiredRevision: 7, connected: false },
      want: "pending",
    },
    {
      desc: "errs, its holder dead",
      input: { health: "error", desiredRevision: 8, replica: "dead" },
      want: "failed",
    },
    { desc: "not applied yet", input: {}, want: "pending" },
    { desc: "not applied, offline", input: { connected: false }, want: "pending" },
  ];
  const none: Rollout = { ...local, total: 0, done: 0, pending: 0, offline: 0, finishedAt: null };
  it.each(cases)("$desc: $want", ({ input, want }) => {
    const cr = object("r1", input);
    const staged = remoteOutcome("r1", cr.status!, 8);
    expect(staged.outcome).toBe(want);
    const failed = new Set(staged.outcome === "failed" ? ["r1"] : []);
    const bar = rolloutOf(view(fleetOf([]), [cr]), none, failed)!;
    const counted = { applied: bar.done, pending: bar.pending, failed: bar.failed };
    expect(counted).toEqual({ applied: 0, pending: 0, failed: 0, [want]: 1 });
  });
});

// Issue 17: each replica numbers merged revisions its own way, so a holder's "applied 8" may be
// another config than this replica's revision 8. The bar counts by the config the holder wrote
// (desiredConfig), as the staged rollout does (remoteOutcome with `known`).
describe("rolloutOf reads a holder's revision numbers by their config", () => {
  const known = [{ revision: 8, config: "c8" }];
  const cases: {
    desc: string;
    input: Partial<NodeMasqueradeStatus>;
    want: "done" | "pending" | "failed";
  }[] = [
    {
      desc: "holder's 3 is this config: done",
      input: { desiredRevision: 3, desiredConfig: "c8", appliedRevision: 3 },
      want: "done",
    },
    {
      desc: "holder's 8 is another config: pending, not done",
      input: { desiredRevision: 8, desiredConfig: "other", appliedRevision: 8 },
      want: "pending",
    },
    {
      desc: "holder failed its 5, which is this config: failed",
      input: { health: "error", desiredRevision: 5, desiredConfig: "c8", appliedRevision: 4 },
      want: "failed",
    },
    {
      desc: "holder failed its 8, another config: pending",
      input: { health: "error", desiredRevision: 8, desiredConfig: "other", appliedRevision: 7 },
      want: "pending",
    },
    {
      desc: "holder of a previous release (no desiredConfig): by number",
      input: { desiredRevision: 8, appliedRevision: 8 },
      want: "done",
    },
  ];
  const none: Rollout = { ...local, total: 0, done: 0, pending: 0, offline: 0, finishedAt: null };
  it.each(cases)("$desc", ({ input, want }) => {
    const fleet = { ...fleetOf([]), knownRevisions: () => known } as unknown as FleetState;
    const cr = object("r1", input);
    const bar = rolloutOf(view(fleet, [cr]), none)!;
    const counted = { done: bar.done, pending: bar.pending, failed: bar.failed };
    expect(counted).toEqual({ done: 0, pending: 0, failed: 0, [want]: 1 });
    const staged = remoteOutcome("r1", cr.status!, 8, known).outcome;
    expect(staged).toBe(want === "done" ? "applied" : want);
  });
});
