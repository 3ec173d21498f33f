import { describe, expect, it } from "vitest";
import { showsRollout } from "./saved-rollout";

describe("showsRollout", () => {
  const r = (resourceVersion: string, finishedAt: number | null) => ({
    resourceVersion,
    finishedAt,
  });
  const cases: { desc: string; input: Parameters<typeof showsRollout>; want: boolean }[] = [
    { desc: "none", input: [null, "41"], want: false },
    { desc: "under way: always", input: [r("40", null), null], want: true },
    { desc: "finished, of the save made here", input: [r("41", 5), "41"], want: true },
    {
      desc: "finished, a merge of the save made here",
      input: [r("41+1@r14", 5), "41"],
      want: true,
    },
    { desc: "finished, of another save", input: [r("40+1@r41", 5), "41"], want: false },
    { desc: "finished, nothing saved here", input: [r("41", 5), null], want: false },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(showsRollout(...input)).toBe(want);
  });
});
