import { describe, expect, it, vi } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  const cases = [
    {
      desc: "a full bucket gives its burst at once",
      rate: 50,
      burst: 5,
      advanceMs: 0,
      takes: 7,
      want: 5,
    },
    { desc: "refills at the rate", rate: 50, burst: 5, advanceMs: 100, takes: 12, want: 10 },
    {
      desc: "never holds more than the burst",
      rate: 50,
      burst: 5,
      advanceMs: 60_000,
      takes: 9,
      want: 10,
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      let t = 0;
      const b = new TokenBucket(c.rate, c.burst, () => t);
      let got = 0;
      for (let i = 0; i < c.burst; i++) if (b.take()) got++;
      t += c.advanceMs;
      for (let i = 0; i < c.takes - c.burst; i++) if (b.take()) got++;
      expect(got).toBe(Math.min(c.want, c.takes));
    });

  it("says how long until the next token", () => {
    let t = 0;
    const b = new TokenBucket(50, 1, () => t);
    expect(b.waitMs()).toBe(0);
    expect(b.take()).toBe(true);
    expect(b.waitMs()).toBe(20);
    t += 20;
    expect(b.take()).toBe(true);
  });

  it("refuses a rate that can never give a token", () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/rate above 0/);
  });

  it("break6: a wall clock stepped back (NTP) does not stall the bucket for the length of the step", () => {
    let t = 10_000_000;
    const b = new TokenBucket(50, 100, () => t);
    for (let i = 0; i < 100; i++) b.take();
    t -= 3_600_000; // the clock steps back an hour
    expect(b.waitMs()).toBeLessThanOrEqual(20);
    t += 20;
    // Event writes and NodeMasquerade status writes waited an hour for their next token.
    expect(b.take()).toBe(true);
  });
});

// On its default clock a bucket measures elapsed time on the monotonic clock: a wall clock
// stepped forward (NTP, a VM resumed) refilled it at once, letting a burst through early.
describe("TokenBucket on its default clock across a wall-clock step", () => {
  for (const step of [10 * 60_000, -10 * 60_000])
    it(`stepped ${step > 0 ? "forward" : "back"} 10 min: still empty`, () => {
      vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000_000 });
      try {
        const b = new TokenBucket(1, 1);
        expect(b.take()).toBe(true);
        vi.setSystemTime(Date.now() + step);
        expect(b.take()).toBe(false);
        expect(b.waitMs()).toBeGreaterThan(900);
      } finally {
        vi.useRealTimers();
      }
    });
});
