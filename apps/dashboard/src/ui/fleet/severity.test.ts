import type { NodeSummary } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { severityNotKnown } from "./severity";

const notKnown = (reason: string): NodeSummary["notKnownHere"] => ({
  fields: ["severity"],
  reason,
});
const heldBy = (differences: number) => ({ replica: "r2", differences, desiredRevision: 2 });

describe("severityNotKnown", () => {
  const cases: {
    desc: string;
    input: Pick<NodeSummary, "notKnownHere" | "heldBy">;
    want: string | null;
  }[] = [
    { desc: "counts known", input: {}, want: null },
    {
      desc: "held elsewhere, no severity recorded, differences: not known",
      input: { notKnownHere: notKnown("old replica"), heldBy: heldBy(2) },
      want: "old replica",
    },
    {
      desc: "held elsewhere, no severity recorded, no differences: none",
      input: { notKnownHere: notKnown("old replica"), heldBy: heldBy(0) },
      want: null,
    },
    {
      desc: "held here, judgement put off while applying: not known",
      input: { notKnownHere: notKnown("applying") },
      want: "applying",
    },
    {
      desc: "other fields not known, severity known",
      input: { notKnownHere: { fields: ["kernel"], reason: "x" }, heldBy: heldBy(1) },
      want: null,
    },
  ];
  for (const c of cases) it(c.desc, () => expect(severityNotKnown(c.input)).toBe(c.want));
});
