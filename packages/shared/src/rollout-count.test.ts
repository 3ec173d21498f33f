import { describe, expect, it } from "vitest";
import {
  type RolloutFacts,
  type RolloutOutcome,
  remoteRulesJudged,
  rolloutOutcome,
} from "./rollout-count.js";

const facts = (o: Partial<RolloutFacts>): RolloutFacts => ({
  appliedRevision: 1,
  desiredRevision: 1,
  health: "in-sync",
  connected: true,
  rulesJudged: true,
  ...o,
});

describe("rolloutOutcome: where a node stands in the rollout of revision 2", () => {
  const cases: { desc: string; input: Partial<RolloutFacts>; want: RolloutOutcome }[] = [
    { desc: "runs it, rules judged: done", input: { appliedRevision: 2 }, want: "done" },
    {
      desc: "runs it, rules not judged yet: awaiting its rules",
      input: { appliedRevision: 2, rulesJudged: false },
      want: "awaiting-rules",
    },
    {
      desc: "runs it, drifted since: done here (the staged rollout fails drifts itself)",
      input: { appliedRevision: 2, health: "drifted" },
      want: "done",
    },
    {
      desc: "sent it, its apply failed: failed",
      input: { desiredRevision: 2, health: "error" },
      want: "failed",
    },
    {
      desc: "errs on the stable revision (held back, never sent it): pending, not failed",
      input: { desiredRevision: 1, health: "error" },
      want: "pending",
    },
    {
      desc: "errs, what it was sent not known: pending",
      input: { desiredRevision: null, health: "error" },
      want: "pending",
    },
    {
      desc: "errs on the stable revision, offline: offline (pending)",
      input: { desiredRevision: 1, health: "error", connected: false },
      want: "offline",
    },
    { desc: "not sent it yet: pending", input: {}, want: "pending" },
    { desc: "not sent it, offline: offline", input: { connected: false }, want: "offline" },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(rolloutOutcome(facts(input), 2)).toBe(want);
  });
});

describe("remoteRulesJudged: by the holder's word", () => {
  const cases: { desc: string; input: { health: string; connected: boolean }; want: boolean }[] = [
    { desc: "applying: not yet", input: { health: "applying", connected: true }, want: false },
    {
      desc: "unknown, connected: not yet",
      input: { health: "unknown", connected: true },
      want: false,
    },
    {
      desc: "unknown, offline: its last judgement",
      input: { health: "unknown", connected: false },
      want: true,
    },
    { desc: "in sync: judged", input: { health: "in-sync", connected: true }, want: true },
    { desc: "drifted: judged", input: { health: "drifted", connected: true }, want: true },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(remoteRulesJudged(input)).toBe(want);
  });
});
