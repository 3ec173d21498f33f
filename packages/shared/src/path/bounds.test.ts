// A long chain of rules the packet cannot decide: the work, the branches listed and the
// conditions per branch are bounded, and the answer says what it did not follow.
import { describe, expect, it } from "vitest";
import { evaluate, MAX_LISTED_OUTCOMES } from "../analysis/evaluate.js";
import { analyzeRuleset } from "../analysis/ruleset.js";
import { parseIptables } from "../parser.js";
import { opaqueReturnsNode } from "../test-fixtures/opaque.js";
import { MAX_LISTED_CONDITIONS } from "./walk.js";

describe("bounded answers", () => {
  const cases: {
    desc: string;
    input: number;
    want: { masqueraded: boolean | null; bound: boolean };
  }[] = [
    {
      desc: "5,000 opaque ACCEPTs: an explicit unknown, bounded output",
      input: 5000,
      want: { masqueraded: null, bound: true },
    },
    {
      desc: "100 opaque ACCEPTs: every branch followed, the answer depends",
      input: 100,
      want: { masqueraded: null, bound: false },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const a = analyzeRuleset(parseIptables(opaqueReturnsNode(c.input)).ruleset, "ipv4", "X");
      const v = evaluate(a, "198.51.100.2");
      if ("error" in v) throw new Error(v.error);
      expect(v.masqueraded).toBe(c.want.masqueraded);
      expect(v.unknowns.some((u) => u.kind === "bound")).toBe(c.want.bound);
      expect(v.outcomes.length).toBeLessThanOrEqual(MAX_LISTED_OUTCOMES + 4);
      for (const o of v.outcomes)
        expect(o.conditions.length).toBeLessThanOrEqual(MAX_LISTED_CONDITIONS + 1);
      expect(JSON.stringify(v).length).toBeLessThan(1_000_000);
    });
});
