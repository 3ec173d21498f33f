import { describe, expect, it } from "vitest";
import { DEFAULT_LIVENESS, type LivenessClock, livenessStep } from "./link-liveness.js";

const at = (c: Partial<LivenessClock>): LivenessClock => ({
  now: 100_000,
  lastSeen: 100_000,
  lastPing: 100_000,
  lastCheck: 99_500,
  ...c,
});

describe("livenessStep (ping when idle 1.5 s, dead after 5 s)", () => {
  const table: { desc: string; input: Partial<LivenessClock>; want: string }[] = [
    { desc: "a frame just arrived", input: {}, want: "idle" },
    { desc: "idle 1 s", input: { lastSeen: 99_000, lastPing: 90_000 }, want: "idle" },
    {
      desc: "idle 1.5 s, no ping yet",
      input: { lastSeen: 98_500, lastPing: 90_000 },
      want: "ping",
    },
    {
      desc: "idle 2 s, pinged 0.5 s ago: wait for the pong",
      input: { lastSeen: 98_000, lastPing: 99_500 },
      want: "idle",
    },
    {
      desc: "idle 3.5 s, pinged 2 s ago: ping again",
      input: { lastSeen: 96_500, lastPing: 98_000 },
      want: "ping",
    },
    { desc: "silent 5 s", input: { lastSeen: 95_000, lastPing: 99_000 }, want: "dead" },
    {
      desc: "silent 60 s but this check ran 1.5 s late: frames may be waiting unread",
      input: { lastSeen: 40_000, lastCheck: 98_500 },
      want: "late",
    },
  ];
  for (const { desc, input, want } of table)
    it(desc, () => expect(livenessStep(at(input), DEFAULT_LIVENESS)).toBe(want));
});

describe("the defaults", () => {
  it("notice a lost replica and leave room to reach another within 10 s", () => {
    const p = DEFAULT_LIVENESS;
    // Declared dead at most one check after deadAfterMs; then a retry after 0.4-0.8 s and up
    // to two hedged attempts hedgeMs apart.
    expect(p.deadAfterMs + 500 + 800 + 2 * p.hedgeMs).toBeLessThanOrEqual(9_500);
    // A pong never waits less than 3.5 s: far above the event-loop lag of a busy replica.
    expect(p.deadAfterMs - p.pingIdleMs).toBeGreaterThanOrEqual(3_500);
  });
});
