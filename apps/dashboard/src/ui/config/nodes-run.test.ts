import type { MergedConfigView } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { nodesRunSentence } from "./nodes-run";

const merge = (sources: number, pushable = true) =>
  ({ sources: Array.from({ length: sources }), pushable }) as unknown as MergedConfigView;
const base = { revision: 4, desiredRevision: 6, abortedRevision: null, valid: true };

describe("nodesRunSentence", () => {
  const cases: {
    desc: string;
    input: Parameters<typeof nodesRunSentence>[0];
    want: string | null;
  }[] = [
    {
      desc: "a merge with one other source, numbered apart",
      input: { ...base, merge: merge(2) },
      want: "nodes run revision 6: this config merged with 1 other config source",
    },
    {
      desc: "a merge not pushed: nodes keep what they run",
      input: { ...base, merge: merge(3, false) },
      want: "nodes keep revision 6: the merge with 2 other config sources is not pushed (see below)",
    },
    {
      desc: "one source: nothing to say",
      input: { ...base, desiredRevision: 4, merge: null },
      want: null,
    },
    {
      desc: "the other sources removed: the config alone under a merged number",
      input: { ...base, desiredRevision: 7, revision: 5, merge: null },
      want: "nodes run revision 7: this config, numbered on from earlier merges with other config sources",
    },
    {
      desc: "after an abort the aborted notice says it",
      input: { ...base, abortedRevision: 7, merge: merge(2) },
      want: null,
    },
    {
      desc: "an invalid stored text has its own notice",
      input: { ...base, valid: false, merge: merge(2) },
      want: null,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(nodesRunSentence(input)).toBe(want);
  });
});
