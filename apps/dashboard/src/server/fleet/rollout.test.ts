import { describe, expect, it } from "vitest";
import { type Rollout, RolloutTracker } from "./rollout.js";

describe("RolloutTracker", () => {
  it("counts done / pending / failed and finishes when nothing is pending", () => {
    const finished: Rollout[] = [];
    const t = new RolloutTracker((r) => finished.push(r));
    t.start(5, "r5", ["a", "b", "c"], 1000);
    expect(t.view()).toMatchObject({ generation: 5, total: 3, pending: 3, finishedAt: null });
    t.mark("a", "done", 1100);
    t.mark("b", "failed", 1200);
    expect(finished).toHaveLength(0);
    t.mark("c", "done", 1500);
    expect(t.view()).toMatchObject({ done: 2, failed: 1, pending: 0, finishedAt: 1500 });
    expect(finished).toEqual([expect.objectContaining({ startedAt: 1000, finishedAt: 1500 })]);
  });

  it("finishes at once with no targets and reopens when a node joins", () => {
    const t = new RolloutTracker();
    t.start(1, "r1", [], 10);
    expect(t.view()?.finishedAt).toBe(10);
    t.mark("late", "pending", 20);
    expect(t.view()).toMatchObject({ total: 1, pending: 1, finishedAt: null });
    t.mark("late", "done", 30);
    expect(t.view()?.finishedAt).toBe(30);
  });
});
