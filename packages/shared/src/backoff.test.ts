import { describe, expect, it } from "vitest";
import { type BackoffPolicy, retryDelay } from "./backoff.js";

const LINK: BackoffPolicy = { initialMs: 800, maxMs: 30_000, jitter: [0.5, 1] };
const PLAIN: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };
const WATCH: BackoffPolicy = { initialMs: 100, maxMs: 500, factor: 1.5, jitter: [0.8, 1.2] };

describe("retryDelay", () => {
  const tests: {
    desc: string;
    input: { attempt: number; policy: BackoffPolicy; random?: number };
    want: number;
  }[] = [
    { desc: "first retry is initialMs", input: { attempt: 0, policy: PLAIN }, want: 500 },
    { desc: "doubles by default", input: { attempt: 3, policy: PLAIN }, want: 4000 },
    { desc: "capped at maxMs", input: { attempt: 6, policy: PLAIN }, want: 30_000 },
    { desc: "huge attempts stay capped", input: { attempt: 1e9, policy: PLAIN }, want: 30_000 },
    { desc: "Infinity counts as 0", input: { attempt: Infinity, policy: PLAIN }, want: 500 },
    { desc: "negative counts as 0", input: { attempt: -3, policy: PLAIN }, want: 500 },
    { desc: "NaN counts as 0", input: { attempt: Number.NaN, policy: PLAIN }, want: 500 },
    {
      desc: "equal jitter, lowest draw: half the ceiling",
      input: { attempt: 10, policy: LINK, random: 0 },
      want: 15_000,
    },
    {
      desc: "equal jitter, highest draw: the ceiling",
      input: { attempt: 10, policy: LINK, random: 1 },
      want: 30_000,
    },
    {
      desc: "equal jitter, middle draw",
      input: { attempt: 0, policy: LINK, random: 0.5 },
      want: 600,
    },
    {
      desc: "factor 1.5: 100, 150, 225",
      input: { attempt: 2, policy: { ...WATCH, jitter: undefined } },
      want: 225,
    },
    {
      desc: "±20% jitter goes above the cap",
      input: { attempt: 20, policy: WATCH, random: 1 },
      want: 600,
    },
    {
      desc: "±20% jitter, lowest draw",
      input: { attempt: 20, policy: WATCH, random: 0 },
      want: 400,
    },
  ];
  for (const { desc, input, want } of tests)
    it(desc, () =>
      expect(retryDelay(input.attempt, input.policy, () => input.random ?? 0.5)).toBe(want),
    );

  it("draws from random: jittered delays differ", () => {
    const seen = new Set(Array.from({ length: 50 }, () => retryDelay(3, LINK)));
    expect(seen.size).toBeGreaterThan(10);
  });
});
