import type { RolloutStrategy, StagedRolloutView, WavesStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { supersedeNote, wholeFleetCanaryNote } from "./review-notes";

const waves = (canary: WavesStrategy["canary"]): RolloutStrategy => ({
  kind: "waves",
  canary,
  waves: [50, 100],
  pause: { kind: "manual" },
});

const running = (over: Partial<StagedRolloutView>): StagedRolloutView =>
  ({
    revision: 5,
    resourceVersion: "905",
    previousRevision: 4,
    previousResourceVersion: "904",
    phase: "paused",
    aborted: false,
    ...over,
  }) as StagedRolloutView;

describe("supersedeNote", () => {
  const tests: {
    desc: string;
    input: { running: StagedRolloutView | null; strategy: RolloutStrategy | null };
    want: string | null;
  }[] = [
    { desc: "no rollout", input: { running: null, strategy: null }, want: null },
    {
      desc: "a healthy rollout is not superseded",
      input: { running: running({ phase: "healthy" }), strategy: waves({ count: 1 }) },
      want: null,
    },
    {
      desc: "an aborted rollout is not superseded (nodes already run the stable revision)",
      input: { running: running({ phase: "degraded", aborted: true }), strategy: null },
      want: null,
    },
    {
      desc: "a paused rollout, the new save in waves: nodes go back to the stable revision",
      input: { running: running({}), strategy: waves({ count: 1 }) },
      want: "The rollout of revision 5 is paused: saving supersedes it. The new revision rolls out in waves from revision 4: nodes that applied revision 5 go back to revision 4 until their wave of the new one is released.",
    },
    {
      desc: "a timed wait between waves is not called paused",
      input: {
        running: running({ pause: { kind: "duration", until: 1 } }),
        strategy: null,
      },
      want: "The rollout of revision 5 is waiting between waves: saving supersedes it.",
    },
    {
      desc: "a progressing rollout, the new save all at once",
      input: { running: running({ phase: "progressing" }), strategy: { kind: "all-at-once" } },
      want: "The rollout of revision 5 is still rolling out: saving supersedes it. Every node gets the new revision at once, also those still on revision 4.",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(supersedeNote(input.running, input.strategy)).toBe(want);
  });
});

describe("wholeFleetCanaryNote", () => {
  const tests: {
    desc: string;
    input: { strategy: RolloutStrategy | null; nodes: number };
    want: string | null;
  }[] = [
    { desc: "all at once", input: { strategy: { kind: "all-at-once" }, nodes: 3 }, want: null },
    { desc: "a canary of 1 of 3", input: { strategy: waves({ count: 1 }), nodes: 3 }, want: null },
    {
      desc: "a canary of 5 on 3 nodes",
      input: { strategy: waves({ count: 5 }), nodes: 3 },
      want: "The canary is all 3 enforce-mode nodes: the change reaches every node at once, with no wave after it; the rollout is healthy once they applied it.",
    },
    {
      desc: "10% of a single node is that node",
      input: { strategy: waves({ percent: 10 }), nodes: 1 },
      want: "The canary is the only enforce-mode node: the change reaches every node at once, with no wave after it; the rollout is healthy once they applied it.",
    },
    {
      desc: "99% of 200 nodes",
      input: { strategy: waves({ percent: 99 }), nodes: 200 },
      want: null,
    },
    {
      desc: "a selector: labels unknown here",
      input: { strategy: waves({ selector: { pool: "a" } }), nodes: 1 },
      want: null,
    },
    { desc: "no node known yet", input: { strategy: waves({ count: 1 }), nodes: 0 }, want: null },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(wholeFleetCanaryNote(input.strategy, input.nodes)).toBe(want);
  });
});
