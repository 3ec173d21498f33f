// conditionOf gives one condition object per test and sense, the words a fresh test gets.
import { describe, expect, it } from "vitest";
import { parseIptables } from "../parser.js";
import { conditionOf } from "./describe.js";
import { compileRule } from "./matches.js";

const testsOf = (line: string) =>
  compileRule(parseIptables(line).ruleset.tables.get("nat")!.get("X")!.rules[0]!, "ipv4").tests;

describe("conditionOf", () => {
  const cases = [
    { desc: "a destination", line: "-A X -d 10.0.0.0/8 -j RETURN", shared: false },
    {
      desc: "a source range",
      line: "-A X -m iprange --src-range 10.0.0.1-10.0.0.9",
      shared: false,
    },
    { desc: "a protocol and port", line: "-A X -p tcp --dport 53 -j RETURN", shared: true },
    { desc: "a mark", line: "-A X -m mark --mark 0x4000/0x4000 -j RETURN", shared: true },
  ];
  for (const { desc, line, shared } of cases)
    it(`is ${shared ? "" : "not "}kept per test and sense for ${desc}; words as for a fresh test`, () => {
      const [tests, fresh] = [testsOf(line), testsOf(line)];
      tests.forEach((t, i) => {
        for (const holds of [true, false]) {
          const c = conditionOf(t.test, holds);
          if (shared) expect(conditionOf(t.test, holds)).toBe(c);
          else expect(conditionOf(t.test, holds)).not.toBe(c);
          expect(conditionOf(t.test, holds)).toEqual(c);
          expect(conditionOf(t.test, !holds)).not.toBe(c);
          expect(conditionOf(fresh[i]!.test, holds)).toEqual(c);
        }
      });
    });
});
