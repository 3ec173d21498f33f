import type { Rollout } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { abortedBehind, doneBarClass, rolloutCountParts, rolloutLabel } from "./rollout-label";

const rollout = (over: Partial<Rollout>): Rollout => ({
  revision: 3,
  resourceVersion: "1",
  startedAt: 0,
  finishedAt: 519,
  total: 5,
  done: 5,
  pending: 0,
  offline: 0,
  failed: 0,
  late: { done: 0, pending: 0, failed: 0 },
  ...over,
});

/** A running rollout resumed after a dashboard restart (Rollout.resumedAt). */
const RESUMED: Partial<Rollout> = { finishedAt: null, resumedAt: 100 };

describe("rolloutLabel", () => {
  it.each([
    {
      desc: "running",
      input: { r: { finishedAt: null, done: 2 }, aborted: null },
      want: "Rolling out revision 3: 2 of 5 nodes applied",
    },
    {
      desc: "finished",
      input: { r: {}, aborted: null },
      want: "Revision 3 rolled out to 5 of 5 nodes",
    },
    {
      desc: "one node, running",
      input: { r: { finishedAt: null, total: 1, done: 0 }, aborted: null },
      want: "Rolling out revision 3: 0 of 1 node applied",
    },
    {
      desc: "one node, finished",
      input: { r: { total: 1, done: 1 }, aborted: null },
      want: "Revision 3 rolled out to 1 of 1 node",
    },
    {
      desc: "no target",
      input: { r: { total: 0, done: 0 }, aborted: null },
      want: "Revision 3: no enforce-mode node was known when it was saved",
    },
    {
      desc: "an abort's revert, finished",
      input: { r: {}, aborted: 4 },
      want: "Reverted to revision 3 after revision 4 was aborted: 5 of 5 nodes",
    },
    {
      desc: "an abort's revert, running",
      input: { r: { finishedAt: null, done: 1 }, aborted: 4 },
      want: "Reverting to revision 3 after revision 4 was aborted: 1 of 5 nodes applied",
    },
    {
      desc: "resumed after a restart, no node back yet",
      input: { r: { ...RESUMED, unseen: 5, offline: 5, pending: 5, done: 0 }, aborted: null },
      want: "Rolling out revision 3: waiting for nodes to reconnect after the dashboard restarted",
    },
    {
      desc: "an abort's revert resumed after a restart, no node back yet",
      input: { r: { ...RESUMED, unseen: 5, offline: 5, pending: 5, done: 0 }, aborted: 4 },
      want: "Reverting to revision 3 after revision 4 was aborted: waiting for nodes to reconnect after the dashboard restarted",
    },
    {
      desc: "resumed after a restart, some nodes back",
      input: { r: { ...RESUMED, unseen: 2, offline: 2, pending: 3, done: 2 }, aborted: null },
      want: "Rolling out revision 3: 2 of 5 nodes applied",
    },
    {
      desc: "resumed after a restart, finished once every node was back",
      input: { r: { resumedAt: 900 }, aborted: null },
      want: "Revision 3 rolled out to 5 of 5 nodes",
    },
  ])("$desc", ({ input, want }) => {
    expect(rolloutLabel(rollout(input.r), input.aborted)).toBe(want);
  });
});

describe("rolloutCountParts", () => {
  const texts = (r: Partial<Rollout>) => rolloutCountParts(rollout(r)).map(([text]) => text);

  it("says the nodes not back since a restart apart from offline ones, never as applied", () => {
    expect(texts({ ...RESUMED, done: 1, pending: 4, heldBack: 1, offline: 3, unseen: 2 })).toEqual([
      "1 held back by the staged rollout",
      "1 offline, pending until it reconnects",
      "2 not reconnected since the dashboard restarted, pending",
    ]);
  });

  it("times a finished rollout, not one resumed after a restart (its time spans the restart)", () => {
    const startedAt = Date.UTC(2026, 0, 1);
    const finishedAt = startedAt + 3000;
    expect(texts({ startedAt, finishedAt })).toEqual(["in 3.0 s"]);
    expect(texts({ startedAt, finishedAt, resumedAt: startedAt + 2000 })).toEqual([]);
  });

  it("counts pending, waiting for rules, failed and late nodes", () => {
    expect(
      texts({
        finishedAt: null,
        done: 1,
        pending: 3,
        awaitingRules: 1,
        failed: 1,
        late: { done: 0, pending: 0, failed: 0 },
      }),
    ).toEqual(["2 pending", "1 applied, waiting for its rules", "1 failed"]);
  });
});

describe("doneBarClass", () => {
  it("is indigo while running, green once finished: nodes that applied are fine", () => {
    expect(doneBarClass(rollout({ finishedAt: null }))).toBe("bg-indigo-500");
    expect(doneBarClass(rollout({}))).toBe("bg-emerald-500");
    expect(doneBarClass(rollout({ done: 4, failed: 1 }))).toBe("bg-emerald-500");
  });
});

describe("abortedBehind", () => {
  const cases: {
    desc: string;
    input: [number, number | null, number | null];
    want: number | null;
  }[] = [
    { desc: "the rollout back to the stable revision after an abort", input: [3, 4, 3], want: 4 },
    { desc: "the aborted revision's own rollout", input: [4, 4, 3], want: null },
    { desc: "nothing aborted", input: [3, null, 3], want: null },
    { desc: "no desired revision", input: [3, 4, null], want: null },
    // The stored text's revision differs from the merged one nodes run: no abort to name.
    {
      desc: "merged sources (stored 11, nodes 14), nothing aborted",
      input: [14, null, 14],
      want: null,
    },
  ];
  it.each(cases)("$desc", ({ input: [revision, aborted, desired], want }) => {
    expect(abortedBehind({ revision }, aborted, desired)).toBe(want);
  });
});
