import type { ApplyResult } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { appliedText, applyingSummary, statusChangeText } from "./event-texts.js";

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
    { desc: "changed", input: {}, want: "desired apply of revision 7 changed the rules (12 ms)" },
    {
      desc: "unchanged, no revision",
      input: { revision: null, changed: false, trigger: "periodic" as const },
      want: "periodic apply found the rules already right (12 ms)",
    },
    {
      desc: "same ms, not changed: another text",
      input: { changed: false },
      want: "desired apply of revision 7 found the rules already right (12 ms)",
    },
    {
      desc: "another revision",
      input: { revision: 8, durationMs: 0.4 },
      want: "desired apply of revision 8 changed the rules (0 ms)",
    },
    {
      desc: "too long to keep",
      input: { durationMs: 2 ** 21 },
      want: `desired apply of revision 7 changed the rules (${2 ** 21} ms)`,
    },
  ])("applied: $desc", ({ input, want }) => {
    expect(appliedText(result(input))).toBe(want);
    expect(appliedText(result(input))).toBe(want); // kept: the same text again
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
