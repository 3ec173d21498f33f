import { describe, expect, it } from "vitest";
import { type ReviewBaseline, reviewBaseline } from "./review-baseline";

describe("reviewBaseline", () => {
  const cases: { desc: string; input: [number, number | null]; want: ReviewBaseline }[] = [
    {
      desc: "nodes run the stored revision",
      input: [3, 3],
      want: { revision: 3, aborted: null, sentence: "Revision 3 → new revision." },
    },
    {
      desc: "no valid desired revision yet: the stored one",
      input: [1, null],
      want: { revision: 1, aborted: null, sentence: "Revision 1 → new revision." },
    },
    {
      desc: "after an abort: compared with the stable revision nodes run, and said",
      input: [3, 2],
      want: {
        revision: 2,
        aborted: 3,
        sentence:
          "Nodes run revision 2: the rollout of revision 3 was aborted. Revision 2 → new revision; what changes is counted from revision 2.",
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(reviewBaseline(...input)).toEqual(want);
  });
});
