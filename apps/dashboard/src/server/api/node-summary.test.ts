import type { DriftedResync, NodeRolloutPlace, NodeStatus } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { type NodeRecord, newRecord } from "../fleet/node.js";
import type { RemoteSummary } from "../replicas/fleet-view.js";
import {
  driftedResync,
  nodeSummary,
  OBSERVE_RESYNC_OFF,
  placeNow,
  resyncUnavailable,
  rowOf,
} from "./node-summary.js";

function node(
  name: string,
  mode: "enforce" | "observe",
  status: NodeStatus,
  connected = true,
): NodeRecord {
  const n = newRecord(helloFor(name, { mode }));
  n.connected = connected;
  n.status = status;
  return n;
}

describe("resyncUnavailable", () => {
  const cases: {
    desc: string;
    input: { n: NodeRecord; canRestart: boolean };
    want: string | null;
  }[] = [
    {
      desc: "an enforce-mode node the dashboard reaches",
      input: { n: node("a", "enforce", "drifted"), canRestart: false },
      want: null,
    },
    {
      desc: "an observe-mode node without pod restarts",
      input: { n: node("b", "observe", "drifted"), canRestart: false },
      want: OBSERVE_RESYNC_OFF,
    },
    {
      desc: "an observe-mode node with IPMASQ_OBSERVE_RESYNC on",
      input: { n: node("c", "observe", "drifted"), canRestart: true },
      want: null,
    },
    {
      desc: "an offline node, whatever its mode",
      input: { n: node("d", "observe", "offline", false), canRestart: true },
      want: "the node is offline",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(resyncUnavailable(input.n, input.canRestart)).toBe(want);
  });
});

describe("driftedResync", () => {
  const fleet = [
    node("e1", "enforce", "drifted"),
    node("e2", "enforce", "drifted"),
    node("e3", "enforce", "in-sync"),
    node("o1", "observe", "drifted"),
    node("o2", "observe", "in-sync"),
    node("x1", "enforce", "offline", false),
  ];
  const cases: { desc: string; input: { canRestart: boolean }; want: DriftedResync }[] = [
    {
      desc: "observe-mode drifted nodes are counted as skipped, with the reason",
      input: { canRestart: false },
      want: {
        resyncable: 2,
        skipped: [{ reason: OBSERVE_RESYNC_OFF, count: 1 }],
        cannotHeal: [],
      },
    },
    {
      desc: "with pod restarts every connected drifted node is resynced",
      input: { canRestart: true },
      want: { resyncable: 3, skipped: [], cannotHeal: [] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(driftedResync(fleet, input.canRestart)).toEqual(want);
  });
});

/** A node of wave 1 of revision 3, not released yet. */
const place: NodeRolloutPlace = {
  revision: 3,
  wave: 1,
  waveName: "wave 1",
  released: false,
  aborted: false,
  desiredRevision: 2,
  progress: "waiting",
};

describe("nodeSummary", () => {
  const staged = { placeOf: (name: string) => (name === "w" ? place : null) };
  const cases: {
    desc: string;
    input: { n: NodeRecord; canRestart: boolean };
    want: { rollout?: NodeRolloutPlace; resyncUnavailable?: string };
  }[] = [
    {
      desc: "a node in a wave carries its place; nothing about resync when possible",
      input: { n: node("w", "enforce", "in-sync"), canRestart: false },
      want: { rollout: place },
    },
    {
      desc: "a node outside any rollout that cannot be resynced says why",
      input: { n: node("o", "observe", "drifted"), canRestart: false },
      want: { resyncUnavailable: OBSERVE_RESYNC_OFF },
    },
    {
      desc: "neither: both fields are absent (rows stay small)",
      input: { n: node("o", "observe", "drifted"), canRestart: true },
      want: {},
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const s = nodeSummary(input.n, {
      staged,
      observeResync: input.canRestart ? { restart: async () => [] } : null,
    });
    expect({ rollout: s.rollout, resyncUnavailable: s.resyncUnavailable }).toEqual({
      rollout: undefined,
      resyncUnavailable: undefined,
      ...want,
    });
    expect(s.name).toBe(input.n.name);
  });
});

describe("rowOf: a node another replica holds", () => {
  const remote = (mode: "enforce" | "observe", connected: boolean): RemoteSummary => ({
    ...nodeSummary(node("r", mode, connected ? "drifted" : "offline", connected), {
      observeResync: null,
      staged: { placeOf: () => null },
    }),
    heldBy: { replica: "dash-b", differences: 1, desiredRevision: 3 },
  });
  const cases: {
    desc: string;
    input: { n: RemoteSummary; canRestart: boolean };
    want: string | undefined;
  }[] = [
    {
      desc: "enforce mode, connected there: resynced through its holder",
      input: { n: remote("enforce", true), canRestart: false },
      want: undefined,
    },
    {
      desc: "observe mode without pod restarts: not here either",
      input: { n: remote("observe", true), canRestart: false },
      want: OBSERVE_RESYNC_OFF,
    },
    {
      desc: "not connected anywhere",
      input: { n: remote("enforce", false), canRestart: true },
      want: "the node is offline",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const ctx = {
      observeResync: input.canRestart ? ({} as never) : null,
      staged: { placeOf: () => null },
    };
    const row = rowOf(input.n, ctx);
    expect(row.resyncUnavailable).toBe(want);
    expect(row.heldBy?.replica).toBe("dash-b");
  });
});

describe("placeNow: a failed node that runs the revision in sync now says both", () => {
  const failed: NodeRolloutPlace = {
    ...place,
    released: true,
    desiredRevision: 3,
    progress: "failed",
    failure: "drifted: missing 10.0.0.0/8",
  };
  const cases: {
    desc: string;
    input: { place: NodeRolloutPlace | null; status: NodeStatus; applied: number | null };
    want: boolean | null;
  }[] = [
    {
      desc: "healed at the revision",
      input: { place: failed, status: "in-sync", applied: 3 },
      want: true,
    },
    { desc: "still drifted", input: { place: failed, status: "drifted", applied: 3 }, want: false },
    {
      desc: "in sync on another revision",
      input: { place: failed, status: "in-sync", applied: 2 },
      want: false,
    },
    {
      desc: "not failed",
      input: { place: { ...failed, progress: "applied" }, status: "in-sync", applied: 3 },
      want: false,
    },
    { desc: "in no rollout", input: { place: null, status: "in-sync", applied: 3 }, want: null },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const p = placeNow(input.place, { status: input.status, appliedRevision: input.applied });
    expect(p === null ? null : p.inSyncNow === true).toBe(want);
  });
});
