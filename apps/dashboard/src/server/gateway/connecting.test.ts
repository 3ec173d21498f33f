import { describe, expect, it } from "vitest";
import { ConnectingReporters, RETRY_WITHIN_MS } from "./connecting.js";

/** "end-again": the first upgrade's end called twice. */
type Step = "begin" | "end" | "end-again" | "refused" | { wait: number };

/** The count after `steps`. */
function run(steps: Step[]): number {
  let now = 1_000_000;
  const r = new ConnectingReporters(() => now);
  const ends: (() => void)[] = [];
  for (const step of steps) {
    if (typeof step === "object") now += step.wait;
    else if (step === "begin") ends.push(r.begin());
    else if (step === "end") ends[ends.length - 1]!();
    else if (step === "end-again") for (const _ of [1, 2]) ends[0]!();
    else r.refused();
  }
  return r.count();
}

describe("ConnectingReporters: reporters on their way to a connection here", () => {
  const cases: { desc: string; input: Step[]; want: number }[] = [
    { desc: "none", input: [], want: 0 },
    { desc: "a token being checked", input: ["begin"], want: 1 },
    { desc: "an upgrade that ended (holds its node, or closed)", input: ["begin", "end"], want: 0 },
    {
      desc: "an upgrade ended twice (accepted, then its socket closed) counts down once",
      input: ["begin", "begin", "end-again"],
      want: 1,
    },
    { desc: "refused busy: it retries within its backoff", input: ["refused"], want: 1 },
    {
      desc: "refused busy twice: each attempt counts (a longer wait, never a shorter one)",
      input: ["refused", { wait: 5_000 }, "refused"],
      want: 2,
    },
    {
      desc: "refused just under the retry bound ago: still counted",
      input: ["refused", { wait: RETRY_WITHIN_MS - 1_000 }],
      want: 1,
    },
    {
      desc: "refused longer ago than any retry takes: it is back, or not coming",
      input: ["refused", { wait: RETRY_WITHIN_MS + 1_000 }],
      want: 0,
    },
    {
      desc: "an old refusal's second reused by a new one: only the new one counts",
      input: ["refused", "refused", { wait: RETRY_WITHIN_MS + 1_000 }, "refused", "begin"],
      want: 2,
    },
  ];
  for (const c of cases) it(c.desc, () => expect(run(c.input)).toBe(c.want));

  it("holds one counter per second of the retry bound, however many are refused", () => {
    let now = 0;
    const r = new ConnectingReporters(() => now);
    for (let i = 0; i < 100_000; i++) {
      r.refused();
      now += 3;
    }
    // 300 s of refusals: only the last RETRY_WITHIN_MS of them are counted.
    const perSecond = 1000 / 3;
    expect(r.count()).toBeGreaterThan((RETRY_WITHIN_MS / 1000 - 2) * perSecond);
    expect(r.count()).toBeLessThan((RETRY_WITHIN_MS / 1000 + 1) * perSecond);
  });
});
