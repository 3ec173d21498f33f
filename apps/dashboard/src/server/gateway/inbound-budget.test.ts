import { describe, expect, it } from "vitest";
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
