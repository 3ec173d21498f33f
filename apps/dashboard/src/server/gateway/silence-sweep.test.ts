import { describe, expect, it } from "vitest";
import { sweepSilent } from "./silence-sweep.js";

describe("sweepSilent: which connections are dropped as silent", () => {
  const heard: [string, number][] = [
    ["fresh", 95_000],
    ["quiet", 75_000],
    ["gone", 60_000],
  ];
  const cases = [
    {
      desc: "an on-time sweep drops those silent for longer than the limit",
      input: { now: 100_000, previous: 95_000 },
      want: { late: false, silent: ["gone"] },
    },
    {
      desc: "exactly at the limit is not yet silent",
      input: { now: 90_000, previous: 85_000 },
      want: { late: false, silent: [] },
    },
    {
      desc: "a sweep twice its interval late still judges",
      input: { now: 100_000, previous: 90_000 },
      want: { late: false, silent: ["gone"] },
    },
    {
      desc: "a late sweep (the loop was starved: heartbeats may wait unread) judges by the previous sweep: none silent before it",
      input: { now: 100_000, previous: 89_999 },
      want: { late: true, silent: [] },
    },
    {
      desc: "after a late sweep, the next on-time one judges again",
      input: { now: 130_000, previous: 125_000 },
      want: { late: false, silent: ["fresh", "quiet", "gone"] },
    },
    {
      desc: "a late sweep drops one already silent for the limit when the previous sweep ran",
      input: { now: 105_000, previous: 94_000 },
      want: { late: true, silent: ["gone"] },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      expect(sweepSilent(c.input.now, c.input.previous, 5_000, 30_000, heard)).toEqual(c.want);
    });
});

describe("break6: a dashboard whose every sweep runs late (a loop lagging for minutes)", () => {
  it("still drops a dead connection, and never a live one whose heartbeats it read", () => {
    // Heartbeats every 10 s (limit 30 s, sweep every 5 s); the loop lags so that every sweep
    // runs 12 s after the previous one. "dead" went silent at 0; "live" is read 8 s late.
    let previous = 0;
    const dropped = new Set<string>();
    for (let now = 12_000; now <= 600_000; now += 12_000) {
      const liveRead = Math.floor((now - 8_000) / 10_000) * 10_000;
      const heard: [string, number][] = [
        ["dead", 0],
        ["live", liveRead],
      ];
      for (const k of sweepSilent(now, previous, 5_000, 30_000, heard).silent) dropped.add(k);
      previous = now;
    }
    // Judging nothing at every late sweep kept the dead connection "connected" for 10 minutes.
    expect([...dropped]).toEqual(["dead"]);
  });
});
