import { afterEach, describe, expect, it, vi } from "vitest";
import { ChangeFeed, type FleetChanges } from "./change-feed.js";

afterEach(() => vi.useRealTimers());

describe("ChangeFeed", () => {
  it("coalesces bursts to one flush per interval with changed nodes only", () => {
    vi.useFakeTimers();
    const flushes: FleetChanges[] = [];
    const f = new ChangeFeed(250, (c) => flushes.push(c));
    f.node("a");
    f.node("b");
    vi.advanceTimersByTime(0);
    expect(flushes).toEqual([{ changed: ["a", "b"], removed: [], config: false, rollout: false }]);
    for (let i = 0; i < 100; i++) f.node(`n${i % 10}`);
    f.rolloutChanged();
    vi.advanceTimersByTime(100);
    expect(flushes).toHaveLength(1);
    vi.advanceTimersByTime(150);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]!.changed).toHaveLength(10);
    expect(flushes[1]!.rollout).toBe(true);
    f.node("x");
    f.nodeRemoved("x");
    vi.advanceTimersByTime(250);
    expect(flushes[2]).toEqual({ changed: [], removed: ["x"], config: false, rollout: false });
    f.close();
  });

  // A wall-clock step (NTP, a VM resumed) must not hold the browsers' updates.
  for (const { desc, input, want } of [
    { desc: "forward 1 min", input: 60_000, want: 2 },
    { desc: "backward 1 min", input: -60_000, want: 2 },
    { desc: "none", input: 0, want: 2 },
  ])
    it(`a wall clock stepped ${desc}: the next change still goes out within the interval`, () => {
      vi.useFakeTimers();
      const flushes: FleetChanges[] = [];
      const f = new ChangeFeed(250, (c) => flushes.push(c));
      f.node("a");
      vi.advanceTimersByTime(0);
      vi.setSystemTime(Date.now() + input);
      f.node("b");
      vi.advanceTimersByTime(250);
      expect(flushes).toHaveLength(want);
    });
});
