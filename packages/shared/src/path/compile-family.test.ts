// compileRule remembers each rule's tests per family: one parsed rule analysed in both families
// (a ruleset judged as ipv4 and ipv6, or parsed rules shared between snapshots) compiles as a
// freshly parsed rule of each family does.
import { describe, expect, it } from "vitest";
import type { Family } from "../cidr.js";
import { parseIptables } from "../parser.js";
import { compileChain, compileRule } from "./matches.js";

const ruleOf = (line: string) => parseIptables(line).ruleset.tables.get("nat")!.get("X")!.rules[0]!;

describe("compileRule per family", () => {
  const cases: { desc: string; input: { line: string; order: Family[] }; want: Family[] }[] = [
    {
      desc: "an IPv4 destination compiled for ipv4, then ipv6",
      input: { line: "-A X -d 10.0.0.0/8 -j RETURN", order: ["ipv4", "ipv6"] },
      want: ["ipv4", "ipv6"],
    },
    {
      desc: "an IPv6 source compiled for ipv6, then ipv4",
      input: { line: "-A X -s fd00::/8 ! -d 224.0.0.0/4 -j MASQUERADE", order: ["ipv6", "ipv4"] },
      want: ["ipv6", "ipv4"],
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const shared = ruleOf(input.line);
      const got = input.order.map((family) => compileRule(shared, family));
      expect(got).toStrictEqual(want.map((family) => compileRule(ruleOf(input.line), family)));
    });
});

describe("compileChain", () => {
  it("is compileRule of each rule in order, per family, looked up once per chain", () => {
    const text = "-A X -d 10.0.0.0/8 -j RETURN\n-A X -s fd00::/8 -j RETURN\n-A X -j MASQUERADE";
    const rules = parseIptables(text).ruleset.tables.get("nat")!.get("X")!.rules;
    for (const family of ["ipv6", "ipv4"] as const) {
      const chain = compileChain(rules, family);
      expect(chain).toStrictEqual(rules.map((r) => compileRule(r, family)));
      expect(compileChain(rules, family)).toBe(chain);
    }
    expect(compileChain(rules, "ipv4")).not.toBe(compileChain(rules, "ipv6"));
  });
});
