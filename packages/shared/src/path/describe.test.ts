// conditionOf gives one condition object per test and sense, the words a fresh test gets.
import { describe, expect, it } from "vitest";
import { parseIptables } from "../parser.js";
import { conditionOf } from "./describe.js";
import { compileRule } from "./matches.js";

const testsOf = (line: string) =>
  compileRule(parseIptables(line).ruleset.tables.get("nat")!.get("X")!.rules[0]!, "ipv4").tests;

describe("conditionOf", () => {
  const cases = [
    { desc: "a destination", line: "-A X -d 10.0.0.0/8 -j RETURN" },
    { desc: "a protocol and port", line: "-A X -p tcp --dport 53 -j RETURN" },
    { desc: "a mark", line: "-A X -m mark --mark 0x4000/0x4000 -j RETURN" },
  ];
  for (const { desc, line } of cases)
    it(`is shared per test and sense for ${desc}, and words as for a fresh test`, () => {
      const [tests, fresh] = [testsOf(line), testsOf(line)];
      tests.forEach((t, i) => {
        for (const holds of [true, false]) {
          const c = conditionOf(t.test, holds);
          expect(conditionOf(t.test, holds)).toBe(c);
          expect(conditionOf(t.test, !holds)).not.toBe(c);
          expect(conditionOf(fresh[i]!.test, holds)).toEqual(c);
        }
      });
    });
});
