import { describe, expect, it, vi } from "vitest";
import { InboundBudget } from "./inbound-budget.js";

describe("InboundBudget", () => {
  const o = { bytesPerSecond: 1000, burstBytes: 2000, framesPerSecond: 10, burstFrames: 5 };

  it("lets a burst through, then asks for pauses that hold the sustained rate", () => {
    const clock = { t: 0 };
    const b = new InboundBudget(o, () => clock.t);
    expect([b.take(1000), b.take(1000)]).toEqual([0, 0]);
    expect(b.take(500)).toBe(500); // 500 bytes in debt at 1000 B/s
    clock.t += 500;
    expect(b.take(0)).toBe(0);
  });

  it("counts frames as well as bytes", () => {
    const clock = { t: 0 };
    const b = new InboundBudget(o, () => clock.t);
    const waits = Array.from({ length: 7 }, () => b.take(1));
    expect(waits).toEqual([0, 0, 0, 0, 0, 100, 200]);
    clock.t += 1000; // refills 10 frames, up to the burst of 5
    expect(b.take(1)).toBe(0);
  });
});

// On its default clock the budget measures elapsed time on the monotonic clock: a wall clock
// stepped back drained it by the step (a connection paused for minutes), one stepped forward
// refilled it at once.
describe("InboundBudget on its default clock across a wall-clock step", () => {
  for (const step of [10 * 60_000, -10 * 60_000])
    it(`stepped ${step > 0 ? "forward" : "back"} 10 min: the pause a second's budget gives`, () => {
      vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000_000 });
      try {
        const b = new InboundBudget({
          bytesPerSecond: 1000,
          burstBytes: 1000,
          framesPerSecond: 1,
          burstFrames: 1,
        });
        expect(b.take(1000)).toBe(0);
        vi.setSystemTime(Date.now() + step);
        const pause = b.take(1000);
        expect(pause).toBeGreaterThan(900);
        expect(pause).toBeLessThanOrEqual(1000);
      } finally {
        vi.useRealTimers();
      }
    });
});
