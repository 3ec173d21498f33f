import { describe, expect, it } from "vitest";
import { abortedNotice } from "./aborted-notice";

describe("abortedNotice", () => {
  const staged = (revision: number, aborted = true) => ({
    revision,
    aborted,
    previousRevision: revision - 1,
  });
  const cases: {
    desc: string;
    input: Parameters<typeof abortedNotice>;
    want: { title: string; body: RegExp } | null;
  }[] = [
    {
      desc: "one source: the stored revision was aborted",
      input: [4, 4, staged(4)],
      want: {
        title: "The rollout of revision 4 was aborted",
        body: /^Every node runs revision 3 again\. The config below is still revision 4, .* roll back to revision 3 in History\.$/,
      },
    },
    {
      desc: "merged sources: the aborted merged revision, the stored text named apart",
      input: [11, 14, staged(14)],
      want: {
        title: "The rollout of revision 14 was aborted",
        body: /The config below \(stored revision 11\) still carries the aborted change/,
      },
    },
    { desc: "nothing aborted (the server says so)", input: [4, null, staged(4)], want: null },
    {
      // Before: the staged rollout's number was compared with the stored text's alone.
      desc: "merged numbering: the stored revision's number matches an aborted rollout by chance",
      input: [14, null, staged(14)],
      want: null,
    },
    { desc: "the staged rollout not aborted", input: [4, 4, staged(4, false)], want: null },
    { desc: "no staged rollout", input: [4, 4, null], want: null },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const got = abortedNotice(...input);
    if (want === null) expect(got).toBeNull();
    else {
      expect(got?.title).toBe(want.title);
      expect(got?.body).toMatch(want.body);
    }
  });
});
