import { describe, expect, it } from "vitest";
import { mergedResourceVersion, mergedRevisionOf, primaryOf } from "./merged-resource-version.js";

describe("mergedResourceVersion, primaryOf and mergedRevisionOf", () => {
  const cases: {
    desc: string;
    input: [string, number, number];
    want: [string, string, number | null];
  }[] = [
    { desc: "the stored config alone: its own", input: ["41", 0, 7], want: ["41", "41", null] },
    { desc: "merged with two sources", input: ["41", 2, 9], want: ["41+2@r9", "41", 9] },
    {
      desc: "a Kubernetes resourceVersion",
      input: ["123456789", 1, 12],
      want: ["123456789+1@r12", "123456789", 12],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const rv = mergedResourceVersion(...input);
    expect([rv, primaryOf(rv), mergedRevisionOf(rv)]).toEqual(want);
  });
});
