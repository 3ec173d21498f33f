import { describe, expect, it } from "vitest";
import { countdown, nextWaveText, phaseBadge } from "./rollout-phase";

describe("phaseBadge", () => {
  it.each([
    {
      desc: "a timed wait",
      r: { phase: "paused", pause: { kind: "duration", until: 1 } },
      want: "waiting",
    },
    { desc: "a manual pause", r: { phase: "paused", pause: { kind: "manual" } }, want: "paused" },
    {
      desc: "a failure",
      r: { phase: "paused", pause: { kind: "failure", reason: "x" } },
      want: "paused",
    },
    { desc: "applying", r: { phase: "progressing", pause: null }, want: "progressing" },
    { desc: "healthy", r: { phase: "healthy", pause: null }, want: "healthy" },
    {
      desc: "aborted while waiting",
      r: { phase: "degraded", pause: { kind: "duration", until: 1 }, aborted: true },
      want: "aborted",
    },
  ] as const)("$desc", ({ r, want }) => expect(phaseBadge({ aborted: false, ...r })).toBe(want));
});

describe("nextWaveText", () => {
  const until = 1_000_000;
  it.each([
    { left: 80_000, want: "next wave in 1 min 20 s" },
    { left: 79_400, want: "next wave in 1 min 20 s" },
    { left: 45_000, want: "next wave in 45 s" },
    { left: 120_000, want: "next wave in 2 min" },
    { left: 3_900_000, want: "next wave in 1 h 5 min" },
    { left: 0, want: "next wave starting now" },
    { left: -5_000, want: "next wave starting now" },
  ])("$left ms left", ({ left, want }) => expect(nextWaveText(until, until - left)).toBe(want));

  it("counts whole seconds up", () => expect(countdown(200)).toBe("1 s"));
});
