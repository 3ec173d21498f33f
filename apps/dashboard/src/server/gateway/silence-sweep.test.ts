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
      desc: "a late sweep (the loop was starved: heartbeats may wait unread) judges nothing",
      input: { now: 100_000, previous: 89_999 },
      want: { late: true, silent: [] },
    },
    {
      desc: "after a late sweep, the next on-time one judges again",
      input: { now: 130_000, previous: 125_000 },
      want: { late: false, silent: ["fresh", "quiet", "gone"] },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      expect(sweepSilent(c.input.now, c.input.previous, 5_000, 30_000, heard)).toEqual(c.want);
    });
});
