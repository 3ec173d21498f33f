import type { Rollout } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { type Outcome, RolloutTracker } from "./rollout.js";

type Step =
  | { at: number; mark: string; outcome: Outcome }
  | { at: number; remove: string }
  /** The node's post-apply rules were judged (RolloutTracker.rulesJudged). */
  | { at: number; judged: string }
  /** The staged rollout counts these failed from now (a drift; [] after a retry). */
  | { stage: string[] };

/**
 * Starts revision 5 at t=1000 with these targets, then plays the steps; `failedByStage`: what
 * the staged rollout counts failed until a `stage` step says otherwise.
 */
function play(targets: [string, boolean][], steps: Step[], failedByStage: string[] = []) {
  const finished: Rollout[] = [];
  let stage = failedByStage;
  const t = new RolloutTracker(
    (r) => finished.push(r),
    () => stage,
  );
  t.start(
    5,
    "r5",
    targets.map(([name, connected]) => ({ name, connected })),
    1000,
  );
  for (const s of steps) {
    if ("stage" in s) stage = s.stage;
    else if ("mark" in s) t.mark(s.mark, s.outcome, s.at);
    else if ("judged" in s) t.rulesJudged(s.judged, s.at);
    else t.remove(s.remove, s.at);
  }
  return { view: t.view(undefined, stage), finished };
}

const none = { done: 0, pending: 0, failed: 0 };
/** b drifted after applying (the stage counts it failed), the rollout finished, b retried. */
const RETRIED_AFTER_FINISH: Step[] = [
  { stage: ["b"] },
  { at: 1100, mark: "a", outcome: "done" },
  { at: 1200, mark: "b", outcome: "done" },
  { stage: [] },
];
/** A target whose reporter is offline when the rollout starts. */
const off = (name: string): [string, boolean] => [name, false];
const targets = (...t: (string | [string, boolean])[]): [string, boolean][] =>
  t.map((x) => (typeof x === "string" ? [x, true] : x));

describe("RolloutTracker", () => {
  const cases: {
    desc: string;
    input: { targets: [string, boolean][]; steps: Step[]; failedByStage?: string[] };
    want: Partial<Rollout> & { finishes?: number };
  }[] = [
    {
      desc: "counts done / failed and finishes when nothing is pending",
      input: {
        targets: targets("a", "b", "c"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1200, mark: "b", outcome: "failed" },
          { at: 1500, mark: "c", outcome: "done" },
        ],
      },
      want: { total: 3, done: 2, failed: 1, pending: 0, offline: 0, finishedAt: 1500, finishes: 1 },
    },
    {
      desc: "an offline node is a pending target: 2 of 3 applied, 1 offline, not finished",
      input: {
        targets: targets("a", "b", off("c")),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1200, mark: "b", outcome: "done" },
        ],
      },
      want: { total: 3, done: 2, pending: 1, offline: 1, failed: 0, finishedAt: null, finishes: 0 },
    },
    {
      desc: "the offline node comes back and applies: finished then",
      input: {
        targets: targets("a", off("c")),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 9000, mark: "c", outcome: "pending" },
          { at: 9100, mark: "c", outcome: "done" },
        ],
      },
      want: { total: 2, done: 2, pending: 0, offline: 0, finishedAt: 9100, late: none },
    },
    {
      desc: "a target that disconnects before applying waits offline instead of failing",
      input: {
        targets: targets("a", "b"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1200, mark: "b", outcome: "offline" },
        ],
      },
      want: { done: 1, pending: 1, offline: 1, failed: 0, finishedAt: null },
    },
    {
      desc: "a disconnect after applying changes nothing; a reconnect does not undo done",
      input: {
        targets: targets("a", "b"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1200, mark: "a", outcome: "offline" },
          { at: 1300, mark: "a", outcome: "pending" },
        ],
      },
      want: { done: 1, pending: 1, offline: 0, finishedAt: null },
    },
    {
      desc: "finished: duration frozen; a failed node that catches up later is counted apart",
      input: {
        targets: targets("a", "b"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1400, mark: "b", outcome: "failed" },
          { at: 60_000, mark: "b", outcome: "pending" },
          { at: 60_100, mark: "b", outcome: "done" },
        ],
      },
      want: {
        total: 2,
        done: 1,
        failed: 1,
        finishedAt: 1400,
        late: { done: 1, pending: 0, failed: 0 },
        finishes: 1,
      },
    },
    {
      desc: "a node joining after the finish is late pending, not a reopened rollout",
      input: {
        targets: targets("a"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 5000, mark: "new", outcome: "pending" },
        ],
      },
      want: {
        total: 1,
        done: 1,
        pending: 0,
        finishedAt: 1100,
        late: { done: 0, pending: 1, failed: 0 },
      },
    },
    {
      // issue 17: the bar said "rolled out to every node" before any post-apply rules were seen
      desc: "applied, its rules not judged yet: pending (awaiting its rules), not finished",
      input: {
        targets: targets("a", "b"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1200, mark: "b", outcome: "awaiting-rules" },
        ],
      },
      want: { done: 1, pending: 1, awaitingRules: 1, offline: 0, finishedAt: null, finishes: 0 },
    },
    {
      desc: "its rules judged: done, and the rollout finishes then",
      input: {
        targets: targets("a", "b"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 1200, mark: "b", outcome: "awaiting-rules" },
          { at: 1300, judged: "b" },
        ],
      },
      want: { done: 2, pending: 0, finishedAt: 1300, finishes: 1 },
    },
    {
      desc: "rules judged of a node that has not applied: nothing changes",
      input: { targets: targets("a"), steps: [{ at: 1100, judged: "a" }] },
      want: { done: 0, pending: 1, finishedAt: null },
    },
    {
      desc: "awaiting its rules, then disconnected: offline, pending until it returns",
      input: {
        targets: targets("a"),
        steps: [
          { at: 1100, mark: "a", outcome: "awaiting-rules" },
          { at: 1200, mark: "a", outcome: "offline" },
        ],
      },
      want: { done: 0, pending: 1, offline: 1, finishedAt: null },
    },
    {
      desc: "after the finish, a late node awaiting its rules is late pending until judged",
      input: {
        targets: targets("a"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 5000, mark: "new", outcome: "awaiting-rules" },
        ],
      },
      want: { done: 1, finishedAt: 1100, late: { done: 0, pending: 1, failed: 0 } },
    },
    {
      desc: "late, its rules judged: caught up later",
      input: {
        targets: targets("a"),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 5000, mark: "new", outcome: "awaiting-rules" },
          { at: 5100, judged: "new" },
        ],
      },
      want: { done: 1, late: { done: 1, pending: 0, failed: 0 } },
    },
    {
      // issue 17: "1 of 4 nodes applied" beside "canary 0/1 applied · 1 failed"
      desc: "a target the staged rollout counts failed (drifted after applying) is failed here too",
      input: {
        targets: targets("canary", "w1", "w2", "w3"),
        steps: [{ at: 1100, mark: "canary", outcome: "done" }],
        failedByStage: ["canary", "not-a-target"],
      },
      want: { total: 4, done: 0, failed: 1, pending: 3, finishedAt: null },
    },
    {
      // issue 17: a retry cleared the stage's failure and the finished bar said "2 of 2 done"
      desc: "finished with a target the stage counts failed, then retried: the finished counts keep it failed",
      input: {
        targets: targets("a", "b"),
        steps: RETRIED_AFTER_FINISH,
      },
      want: { total: 2, done: 1, failed: 1, finishedAt: 1200, late: none, finishes: 1 },
    },
    {
      desc: "finished with a stage failure, retried, applied again: the retry is counted late",
      input: {
        targets: targets("a", "b"),
        steps: [
          ...RETRIED_AFTER_FINISH,
          { at: 1300, mark: "b", outcome: "pending" },
          { at: 1400, mark: "b", outcome: "done" },
        ],
      },
      want: { done: 1, failed: 1, finishedAt: 1200, late: { done: 1, pending: 0, failed: 0 } },
    },
    {
      desc: "no targets: finished at once",
      input: { targets: [], steps: [] },
      want: { total: 0, finishedAt: 1000, finishes: 1 },
    },
    {
      desc: "forgetting the only offline target finishes the rollout",
      input: {
        targets: targets("a", off("gone")),
        steps: [
          { at: 1100, mark: "a", outcome: "done" },
          { at: 7000, remove: "gone" },
        ],
      },
      want: { total: 1, done: 1, pending: 0, offline: 0, finishedAt: 7000 },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const { view, finished } = play(c.input.targets, c.input.steps, c.input.failedByStage);
      const { finishes, ...want } = c.want;
      expect(view).toMatchObject(want);
      if (finishes !== undefined) expect(finished).toHaveLength(finishes);
    });

  it("reports the finished rollout once, with its start and finish", () => {
    const { finished } = play(targets("a"), [
      { at: 1500, mark: "a", outcome: "done" },
      { at: 9000, mark: "a", outcome: "pending" },
      { at: 9100, mark: "late", outcome: "done" },
    ]);
    expect(finished).toEqual([expect.objectContaining({ startedAt: 1000, finishedAt: 1500 })]);
  });
});

describe("RolloutTracker resumed after a restart", () => {
  /** Revision 5 resumed at t=2000 (begun at 1000) with no node known; `unseen` as told. */
  function resumed() {
    const finished: Rollout[] = [];
    const seen = { unseen: 3 };
    const t = new RolloutTracker(
      (r) => finished.push(r),
      () => [],
      (revision) => (revision === 5 ? seen.unseen : 0),
    );
    t.start(5, "r5", [], 2000, { startedAt: 1000 });
    return { t, seen, finished };
  }

  it("with no node back, waits for the counted ones: pending, offline, never finished", () => {
    const { t, finished } = resumed();
    expect(t.view()).toMatchObject({
      revision: 5,
      startedAt: 1000,
      resumedAt: 2000,
      finishedAt: null,
      total: 3,
      done: 0,
      pending: 3,
      offline: 3,
      unseen: 3,
    });
    expect(finished).toEqual([]);
  });

  it("counts nodes as they come back, finishes once none is unseen and all applied", () => {
    const { t, seen, finished } = resumed();
    seen.unseen = 2;
    t.mark("a", "done", 2100);
    seen.unseen = 1;
    t.mark("b", "pending", 2200);
    expect(t.view()).toMatchObject({ total: 3, done: 1, pending: 2, offline: 1, unseen: 1 });
    t.mark("b", "done", 2300);
    // Every known target applied, one counted node still away: not finished.
    expect(t.view()).toMatchObject({ finishedAt: null, total: 3, done: 2, unseen: 1 });
    expect(finished).toEqual([]);
    // Dropped from its wave (forgotten): nothing is left to wait for.
    seen.unseen = 0;
    expect(t.recheck(2400)).toBe(true);
    const v = t.view()!;
    expect(v).toMatchObject({ finishedAt: 2400, total: 2, done: 2, pending: 0, offline: 0 });
    expect(v.unseen).toBeUndefined();
    expect(finished).toEqual([expect.objectContaining({ startedAt: 1000, resumedAt: 2000 })]);
  });

  it("a start at a save is not resumed and counts no unseen node of another revision", () => {
    const { t } = resumed();
    t.start(6, "r6", [{ name: "a", connected: true }], 3000);
    const v = t.view()!;
    expect(v).toMatchObject({ revision: 6, startedAt: 3000, total: 1, pending: 1 });
    expect(v.resumedAt).toBeUndefined();
    expect(v.unseen).toBeUndefined();
  });
});
