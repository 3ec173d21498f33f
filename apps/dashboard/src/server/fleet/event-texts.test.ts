import type { ApplyResult } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { appliedText, applyingSummary, applyWhat, statusChangeText } from "./event-texts.js";

const result = (over: Partial<ApplyResult>): ApplyResult => ({
  type: "apply-result",
  v: 2,
  revision: 7,
  ok: true,
  durationMs: 12.4,
  trigger: "desired",
  changed: true,
  ...over,
});

describe("event texts", () => {
  it.each([
    {
      desc: "changed",
      input: {},
      want: "applying revision 7 sent by the dashboard changed the rules (12 ms)",
    },
    {
      desc: "unchanged, no revision",
      input: { revision: null, changed: false, trigger: "periodic" as const },
      want: "periodic resync found the rules already right (12 ms)",
    },
    {
      desc: "same ms, not changed: another text",
      input: { changed: false },
      want: "applying revision 7 sent by the dashboard found the rules already right (12 ms)",
    },
    {
      desc: "another revision",
      input: { revision: 8, durationMs: 0.4 },
      want: "applying revision 8 sent by the dashboard changed the rules (0 ms)",
    },
    {
      desc: "too long to keep",
      input: { durationMs: 2 ** 21 },
      want: `applying revision 7 sent by the dashboard changed the rules (${2 ** 21} ms)`,
    },
  ])("applied: $desc", ({ input, want }) => {
    expect(appliedText(result(input))).toBe(want);
    expect(appliedText(result(input))).toBe(want); // kept: the same text again
  });

  it.each([
    { desc: "desired", input: ["desired", 7], want: "applying revision 7 sent by the dashboard" },
    {
      desc: "desired, no revision",
      input: ["desired", null],
      want: "applying the config sent by the dashboard",
    },
    { desc: "resync", input: ["resync", 7], want: "resync of revision 7 asked in the dashboard" },
    { desc: "periodic", input: ["periodic", 7], want: "periodic resync of revision 7" },
    { desc: "periodic, no revision", input: ["periodic", null], want: "periodic resync" },
    { desc: "startup", input: ["startup", 7], want: "apply of revision 7 at reporter start" },
    { desc: "heal", input: ["heal", 7], want: "heal of drift with revision 7" },
    { desc: "cli", input: ["cli", null], want: "apply from the ipmasq command line" },
  ] as const)("what an apply was: $desc", ({ input, want }) => {
    expect(applyWhat(input[0], input[1])).toBe(want);
  });

  it("a status change and the applying summary", () => {
    expect(statusChangeText("in-sync", "applying", applyingSummary(3))).toBe(
      "in-sync → applying: applying revision 3",
    );
    expect(statusChangeText("applying", "in-sync", "all good")).toBe(
      "applying → in-sync: all good",
    );
    expect(statusChangeText("applying", "drifted", "all good")).toBe(
      "applying → drifted: all good",
    );
    expect(applyingSummary(null)).toBe("applying revision null");
  });

  // A new user's find: a brand-new node's first entry read "offline → applying".
  it.each([
    ["applying", applyingSummary(1), "applying (first report): applying revision 1"],
    ["in-sync", "in sync", "in-sync (first report): in sync"],
    [
      "offline",
      "disconnected before reporting its rules",
      "offline (first report): disconnected before reporting its rules",
    ],
  ] as const)("a first status is no change: %s", (to, why, want) => {
    expect(statusChangeText(null, to, why)).toBe(want);
    // Not mixed up with a change from offline of the same words (kept texts by `from`).
    expect(statusChangeText("offline", to, why)).toBe(`offline → ${to}: ${why}`);
  });

  it("stays right past its bound (it starts over)", () => {
    for (let r = 0; r < 3000; r++) {
      expect(applyingSummary(r)).toBe(`applying revision ${r}`);
      expect(statusChangeText("in-sync", "drifted", `why ${r}`)).toBe(
        `in-sync → drifted: why ${r}`,
      );
    }
    expect(applyingSummary(5)).toBe("applying revision 5");
  });
});
