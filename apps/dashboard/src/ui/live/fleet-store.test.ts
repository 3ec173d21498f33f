import type { NodeSummary, StagedRolloutView } from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  applyConfigEvent,
  applyFleet,
  applyHello,
  applyRollout,
  applyStaged,
  initialFleetState,
} from "./fleet-store";

function node(name: string, over: Partial<NodeSummary> = {}): NodeSummary {
  return {
    name,
    os: "linux",
    mode: "enforce",
    status: "in-sync",
    summary: "in sync",
    connected: true,
    liveness: "live",
    lastSeenAt: 1,
    lastReportAt: 1,
    appliedRevision: 1,
    backend: "nf_tables",
    kernel: "6.1",
    iptablesVersion: "1.8.9",
    critical: 0,
    warnings: 0,
    ...over,
  };
}

describe("fleet store", () => {
  it("hello replaces the list, sorted by name, with counts", () => {
    const s = applyHello(initialFleetState(), {
      nodes: [node("b"), node("a", { status: "drifted" }), node("c")],
    });
    expect(s.ready).toBe(true);
    expect(s.names).toEqual(["a", "b", "c"]);
    expect(s.counts).toMatchObject({ "in-sync": 2, drifted: 1 });
  });

  it("fleet updates change only the changed nodes and keep the others' identity", () => {
    const s0 = applyHello(initialFleetState(), { nodes: [node("a"), node("b")] });
    const a0 = s0.nodes.get("a");
    const s1 = applyFleet(s0, {
      nodes: [node("b", { status: "drifted", summary: "missing 10.0.0.0/8" })],
    });
    expect(s1.nodes.get("a")).toBe(a0);
    expect(s1.nodes.get("b")?.status).toBe("drifted");
    expect(s1.names).toBe(s0.names); // no add/remove → same array
    expect(s1.counts).toMatchObject({ "in-sync": 1, drifted: 1 });
  });

  it("a node whose rollout place or resync possibility alone changed is replaced", () => {
    const waiting = {
      revision: 2,
      wave: 1,
      waveName: "wave 1",
      released: false,
      aborted: false,
      desiredRevision: 1,
      progress: "waiting" as const,
    };
    const s0 = applyHello(initialFleetState(), { nodes: [node("a", { rollout: waiting })] });
    const released = {
      ...waiting,
      released: true,
      desiredRevision: 2,
      progress: "applying" as const,
    };
    const s1 = applyFleet(s0, { nodes: [node("a", { rollout: released })] });
    expect(s1.nodes.get("a")?.rollout).toEqual(released);
    const s2 = applyFleet(s1, { nodes: [node("a")] });
    expect(s2.nodes.get("a")?.rollout).toBeUndefined();
    const s3 = applyFleet(s2, { nodes: [node("a", { resyncUnavailable: "the node is offline" })] });
    expect(s3.nodes.get("a")?.resyncUnavailable).toBe("the node is offline");
    expect(
      applyFleet(s3, { nodes: [node("a", { resyncUnavailable: "the node is offline" })] }),
    ).toBe(s3);
    // Its severity said unknown while it applies, then counted (0 is a fact now).
    const putOff = { fields: ["severity" as const], reason: "applying" };
    const s4 = applyFleet(s3, { nodes: [node("a", { notKnownHere: putOff })] });
    expect(s4.nodes.get("a")?.notKnownHere).toEqual(putOff);
    expect(applyFleet(s4, { nodes: [node("a")] }).nodes.get("a")?.notKnownHere).toBeUndefined();
  });

  // A node held by another replica: its row's severity chip reads heldBy.differences (0: none,
  // null: not counted yet), which can change alone when only its difference count does.
  it("a node held elsewhere whose holder's count alone changed is replaced", () => {
    const noSeverity = { fields: ["severity" as const], reason: "previous release" };
    const held = (differences: number | null, replica = "r2") =>
      node("a", { notKnownHere: noSeverity, heldBy: { replica, differences, desiredRevision: 2 } });
    const cases: { desc: string; input: NodeSummary; want: "replaced" | "kept" }[] = [
      { desc: "same holder and count", input: held(0), want: "kept" },
      { desc: "0 differences, then 2", input: held(2), want: "replaced" },
      { desc: "0 differences, then not counted", input: held(null), want: "replaced" },
      { desc: "another holder", input: held(0, "r3"), want: "replaced" },
      {
        desc: "no longer held elsewhere",
        input: node("a", { notKnownHere: noSeverity }),
        want: "replaced",
      },
    ];
    const s0 = applyHello(initialFleetState(), { nodes: [held(0)] });
    for (const c of cases) {
      const s1 = applyFleet(s0, { nodes: [c.input] });
      expect(s1 === s0 ? "kept" : "replaced", c.desc).toBe(c.want);
      if (c.want === "replaced") expect(s1.nodes.get("a")?.heldBy, c.desc).toEqual(c.input.heldBy);
    }
  });

  it("unchanged payloads return the same state object", () => {
    const s0 = applyHello(initialFleetState(), { nodes: [node("a")] });
    expect(applyFleet(s0, { nodes: [node("a")] })).toBe(s0);
  });

  it("adds and removes nodes keeping the names sorted", () => {
    const s0 = applyHello(initialFleetState(), { nodes: [node("b"), node("d")] });
    const s1 = applyFleet(s0, {
      nodes: [node("c"), node("a"), node("e", { status: "offline" })],
      removed: ["d"],
    });
    expect(s1.names).toEqual(["a", "b", "c", "e"]);
    expect(s1.counts).toMatchObject({ "in-sync": 3, offline: 1 });
    const s2 = applyFleet(s1, { nodes: [], removed: ["zzz"] });
    expect(s2).toBe(s1);
  });

  it("a reconnect hello drops nodes that are gone and reuses equal ones", () => {
    const s0 = applyHello(initialFleetState(), { nodes: [node("a"), node("b")] });
    const s1 = applyHello(s0, { nodes: [node("a")] });
    expect(s1.names).toEqual(["a"]);
    expect(s1.nodes.get("a")).toBe(s0.nodes.get("a"));
  });

  it("rollout and config events update the summary", () => {
    const s0 = applyHello(initialFleetState(), {
      nodes: [node("a")],
      summary: {
        total: 1,
        byStatus: { "in-sync": 1 },
        resourceVersion: "r3",
        revision: 3,
        desiredRevision: 3,
        abortedRevision: null,
        rollout: null,
      },
    });
    const s1 = applyRollout(s0, {
      revision: 4,
      resourceVersion: "r4",
      startedAt: 1,
      finishedAt: null,
      total: 1,
      done: 0,
      pending: 1,
      offline: 0,
      failed: 0,
      late: { done: 0, pending: 0, failed: 0 },
    });
    expect(s1.summary?.rollout?.pending).toBe(1);
    // The config revision is the config event's: a rollout may be of an earlier revision.
    expect(s1.summary?.revision).toBe(3);
    const ev = {
      resourceVersion: "r5",
      revision: 5,
      desiredRevision: 4,
      abortedRevision: 5,
      valid: true,
    };
    const s2 = applyConfigEvent(s1, ev);
    expect(s2.summary).toMatchObject({
      resourceVersion: "r5",
      revision: 5,
      desiredRevision: 4,
      abortedRevision: 5,
    });
    expect(applyConfigEvent(s2, { ...ev })).toBe(s2);
    // Only the abort changes: the summary follows (the bar's words depend on it).
    expect(applyConfigEvent(s2, { ...ev, abortedRevision: null }).summary?.abortedRevision).toBe(
      null,
    );
  });

  it("the staged rollout comes with the hello and each staged-rollout event; a polled list keeps it", () => {
    const paused = { revision: 8, phase: "paused" } as StagedRolloutView;
    const s0 = initialFleetState();
    expect(s0.staged).toBeUndefined(); // not known before the first hello
    const s1 = applyHello(s0, { nodes: [node("a")], staged: null });
    expect(s1.staged).toBeNull();
    const s2 = applyStaged(s1, paused);
    expect(s2.staged).toBe(paused);
    expect(s2.version).toBeGreaterThan(s1.version);
    // GET /api/nodes (the polling fallback) carries no staged rollout: the one known stays.
    expect(applyHello(s2, { nodes: [node("a")] }).staged).toBe(paused);
    expect(applyHello(s2, { nodes: [node("a")], staged: null }).staged).toBeNull();
  });
});
