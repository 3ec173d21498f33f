import { describe, expect, it } from "vitest";
import { type AnswerRules, askAgain } from "./answer-rules";

describe("askAgain", () => {
  const cases: { desc: string; input: AnswerRules; want: boolean }[] = [
    {
      desc: "the answer is from the rules the page shows",
      input: { answered: 1000, current: 1000, reasked: null },
      want: false,
    },
    {
      desc: "the node reported new rules after the answer (a legacy rule read later)",
      input: { answered: 1000, current: 2000, reasked: null },
      want: true,
    },
    {
      desc: "already asked again for that report: never a loop",
      input: { answered: 1000, current: 2000, reasked: 2000 },
      want: false,
    },
    {
      desc: "a newer report after asking again once",
      input: { answered: 2000, current: 3000, reasked: 2000 },
      want: true,
    },
    {
      desc: "the page knows no report (a node another replica holds)",
      input: { answered: 1000, current: null, reasked: null },
      want: false,
    },
    {
      desc: "the answer came before any report was known here",
      input: { answered: null, current: 1000, reasked: null },
      want: true,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => expect(askAgain(input)).toBe(want));
});
