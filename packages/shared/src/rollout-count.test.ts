import { describe, expect, it } from "vitest";
import {
  inReaderNumbering,
  type NumberedConfig,
  type RecordedStatus,
  type RolloutFacts,
  type RolloutOutcome,
  recordedOutcome,
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

// The reader numbers config C as revision 9 and config B (the one before) as 8; the holder
// numbered its merges itself (it saw fewer source edits), so its 7 is C and its 9 is another.
const C = "c".repeat(64);
const B = "b".repeat(64);
const OTHER = "0".repeat(64);
const known: NumberedConfig[] = [
  { revision: 9, config: C },
  { revision: 8, config: B },
];

describe("inReaderNumbering: a holder's revisions in the reader's numbering", () => {
  const st = (o: Partial<RecordedStatus>): RecordedStatus => ({
    health: "in-sync",
    connected: true,
    ...o,
  });
  const cases: {
    desc: string;
    input: RecordedStatus;
    want: { appliedRevision: number | null; desiredRevision: number | null };
  }[] = [
    {
      desc: "holder's 7 is the reader's 9 (same config): runs it, read as 9",
      input: st({ appliedRevision: 7, desiredRevision: 7, desiredConfig: C }),
      want: { appliedRevision: 9, desiredRevision: 9 },
    },
    {
      desc: "holder's 9 is another config: the number says nothing here",
      input: st({ appliedRevision: 9, desiredRevision: 9, desiredConfig: OTHER }),
      want: { appliedRevision: null, desiredRevision: null },
    },
    {
      // Written "" (a null key is deleted by the merge patch and would read as a previous
      // release's status, its applied number taken as the reader's).
      desc: 'holder had no desired config (""): its applied number says nothing here',
      input: st({ appliedRevision: 9, desiredConfig: "" }),
      want: { appliedRevision: null, desiredRevision: null },
    },
    {
      desc: "holder sent its 7 (= reader's 9), node still runs its 6: not known which config",
      input: st({ appliedRevision: 6, desiredRevision: 7, desiredConfig: C }),
      want: { appliedRevision: null, desiredRevision: 9 },
    },
    {
      // The desired number matching says nothing of the applied one: the holder's 8 may be
      // another config than the reader's 8 (it applied its own 8, then failed to apply 9).
      desc: "desired numbered alike: an older applied number is not taken as the reader's",
      input: st({ appliedRevision: 8, desiredRevision: 9, desiredConfig: C }),
      want: { appliedRevision: null, desiredRevision: 9 },
    },
    {
      desc: "held back on the stable config, numbered 5 there: read as 8",
      input: st({ appliedRevision: 5, desiredRevision: 5, desiredConfig: B }),
      want: { appliedRevision: 8, desiredRevision: 8 },
    },
    {
      desc: "holder of the previous release (no desiredConfig): by number",
      input: st({ appliedRevision: 9, desiredRevision: 9 }),
      want: { appliedRevision: 9, desiredRevision: 9 },
    },
    {
      desc: "holder with no desired revision: nothing known",
      input: st({ appliedRevision: 9, desiredRevision: null, desiredConfig: null }),
      want: { appliedRevision: null, desiredRevision: null },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(inReaderNumbering(input, known)).toEqual(want);
  });

  it("without the reader's configs (no known): by number", () => {
    const input = st({ appliedRevision: 9, desiredRevision: 9, desiredConfig: OTHER });
    expect(inReaderNumbering(input, undefined)).toEqual({ appliedRevision: 9, desiredRevision: 9 });
  });
});

describe("recordedOutcome of revision 9 with holders numbering merges their own way", () => {
  const cases: { desc: string; input: RecordedStatus; want: RolloutOutcome }[] = [
    {
      desc: "runs the holder's 7, which is config C: done",
      input: {
        appliedRevision: 7,
        desiredRevision: 7,
        desiredConfig: C,
        health: "in-sync",
        connected: true,
      },
      want: "done",
    },
    {
      desc: "runs the holder's 9, another config: pending, never done by the number",
      input: {
        appliedRevision: 9,
        desiredRevision: 9,
        desiredConfig: OTHER,
        health: "in-sync",
        connected: true,
      },
      want: "pending",
    },
    {
      desc: "its apply of the holder's 7 (config C) failed: failed",
      input: {
        appliedRevision: 6,
        desiredRevision: 7,
        desiredConfig: C,
        health: "error",
        connected: true,
      },
      want: "failed",
    },
    {
      desc: "its apply of the holder's 9 (another config) failed: pending, not this rollout's failure",
      input: {
        appliedRevision: 8,
        desiredRevision: 9,
        desiredConfig: OTHER,
        health: "error",
        connected: true,
      },
      want: "pending",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(recordedOutcome(input, 9, input.connected, known)).toBe(want);
  });
});
