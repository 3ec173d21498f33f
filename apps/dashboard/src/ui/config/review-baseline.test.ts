import { describe, expect, it } from "vitest";
import { type ReviewBaseline, reviewBaseline } from "./review-baseline";

describe("reviewBaseline", () => {
  const cases: {
    desc: string;
    input: [number, number | null, number | null];
    want: ReviewBaseline;
  }[] = [
    {
      desc: "nodes run the stored revision",
      input: [3, 3, null],
      want: { revision: 3, aborted: null, sentence: "Revision 3 → new revision." },
    },
    {
      desc: "no valid desired revision yet: the stored one",
      input: [1, null, null],
      want: { revision: 1, aborted: null, sentence: "Revision 1 → new revision." },
    },
    {
      desc: "after an abort: compared with the stable revision nodes run, and said",
      input: [3, 2, 3],
      want: {
        revision: 2,
        aborted: 3,
        sentence:
          "Nodes run revision 2: the rollout of revision 3 was aborted. Revision 2 → new revision; what changes is counted from revision 2.",
      },
    },
    {
      // Merged revisions are numbered apart from the stored text's (e2e: after sources.spec
      // the header said "revision 11 was aborted" and the bar "Reverting to revision 14").
      desc: "merged sources number revisions apart: the one nodes run, nothing aborted",
      input: [11, 14, null],
      want: { revision: 14, aborted: null, sentence: "Revision 14 → new revision." },
    },
    {
      desc: "stored text invalid: the last valid revision nodes run, nothing aborted",
      input: [5, 4, null],
      want: { revision: 4, aborted: null, sentence: "Revision 4 → new revision." },
    },
    {
      desc: "an abort with merged numbering: the aborted revision as numbered for nodes",
      input: [11, 13, 14],
      want: {
        revision: 13,
        aborted: 14,
        sentence:
          "Nodes run revision 13: the rollout of revision 14 was aborted. Revision 13 → new revision; what changes is counted from revision 13.",
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(reviewBaseline(...input)).toEqual(want);
  });
});
