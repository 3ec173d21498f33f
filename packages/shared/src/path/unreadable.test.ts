// Lines the parser cannot read are rules in the kernel all the same: a branch that reaches one
// is unknown, never a confident answer that skipped it; free-text options take the next word.
import { describe, expect, it } from "vitest";
import { evaluate } from "../analysis/evaluate.js";
import { analyzeRuleset } from "../analysis/ruleset.js";
import { parseIptables } from "../parser.js";

const JUMP =
  '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT';
const MASQ = "-A IP-MASQ-AGENT -j MASQUERADE";
const save = (rules: string[]) =>
  ["*nat", ":POSTROUTING ACCEPT [0:0]", ":IP-MASQ-AGENT - [0:0]", ...rules, "COMMIT", ""].join(
    "\n",
  );

function verdictOf(text: string, dst: string) {
  const v = evaluate(analyzeRuleset(parseIptables(text).ruleset, "ipv4", "IP-MASQ-AGENT"), dst);
  if ("error" in v) throw new Error(v.error);
  return v;
}

describe("unquoted free-text arguments", () => {
  const cases: {
    desc: string;
    input: string[];
    dst: string;
    want: { masqueraded: boolean | null; certain: boolean; decidedBy?: string };
  }[] = [
    {
      desc: '--comment "-j" (printed without quotes by -S): the RETURN is read and decides',
      input: [
        JUMP,
        '-A IP-MASQ-AGENT -d 198.51.100.2/32 -m comment --comment "-j" -j RETURN',
        MASQ,
      ],
      dst: "198.51.100.2",
      want: { masqueraded: false, certain: true, decidedBy: "IP-MASQ-AGENT 0" },
    },
    {
      desc: "--comment -m unquoted before an ACCEPT in POSTROUTING",
      input: ["-A POSTROUTING -m comment --comment -m -j ACCEPT", JUMP, MASQ],
      dst: "198.51.100.2",
      want: { masqueraded: false, certain: true, decidedBy: "POSTROUTING 0" },
    },
    {
      desc: "--log-prefix -j: the LOG rule passes the packet on",
      input: [JUMP, "-A IP-MASQ-AGENT -j LOG --log-prefix -j", MASQ],
      dst: "198.51.100.2",
      want: { masqueraded: true, certain: true, decidedBy: "IP-MASQ-AGENT 1" },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const text = save(c.input);
      expect(parseIptables(text).errors).toEqual([]);
      const v = verdictOf(text, c.dst);
      expect({
        masqueraded: v.masqueraded,
        certain: v.certain,
        decidedBy: v.decidedBy && `${v.decidedBy.chain} ${v.decidedBy.index}`,
      }).toEqual(c.want);
    });
});

describe("unreadable lines on the path", () => {
  const cases: {
    desc: string;
    input: string[];
    dst: string;
    want: { masqueraded: boolean | null; unknown: RegExp | null; ruleNumbers?: number[] };
  }[] = [
    {
      desc: "an unreadable RETURN in the agent chain makes the answer unknown, naming the line",
      input: [
        JUMP,
        '-A IP-MASQ-AGENT -d 198.51.100.2/32 -m comment --comment "oops -j RETURN',
        MASQ,
      ],
      dst: "198.51.100.2",
      want: {
        masqueraded: null,
        unknown: /IP-MASQ-AGENT rule 1 \(input line 5\) could not be read \(unterminated quote\)/,
        ruleNumbers: [1, 2],
      },
    },
    {
      desc: "an unreadable rule in POSTROUTING before the jump: every branch reaches it",
      input: ["-A POSTROUTING -j SNAT -j ACCEPT", JUMP, MASQ],
      dst: "198.51.100.2",
      want: { masqueraded: null, unknown: /POSTROUTING rule 1 .*more than one target/ },
    },
    {
      desc: "an unreadable rule after the decision does not change it (no packet reaches it)",
      input: [JUMP, MASQ, '-A IP-MASQ-AGENT -m comment --comment "x -j RETURN'],
      dst: "198.51.100.2",
      want: { masqueraded: true, unknown: null },
    },
    {
      desc: "only branches that reach the unreadable rule are unknown",
      input: [
        JUMP,
        "-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN",
        '-A IP-MASQ-AGENT -m comment --comment "x -j RETURN',
        MASQ,
      ],
      dst: "10.1.2.3",
      want: { masqueraded: false, unknown: null },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const text = save(c.input);
      const v = verdictOf(text, c.dst);
      expect(v.masqueraded).toBe(c.want.masqueraded);
      const u = v.unknowns.find((x) => x.kind === "unreadable-rule");
      if (c.want.unknown) expect(u?.message).toMatch(c.want.unknown);
      else expect(u).toBeUndefined();
      if (c.want.ruleNumbers) {
        const agent = parseIptables(text).ruleset.tables.get("nat")?.get("IP-MASQ-AGENT");
        expect(agent?.rules.map((_, i) => i + 1)).toEqual(c.want.ruleNumbers);
        expect(agent?.rules[0]?.unreadable).toBe("unterminated quote");
      }
    });
});

describe("commands that are not lines of a dump", () => {
  const cases: { desc: string; input: string; want: RegExp }[] = [
    {
      desc: "-I CHAIN 1 … is an insert command",
      input: "-I IP-MASQ-AGENT 1 -d 8.8.8.8/32 -j RETURN",
      want: /-I inserts a rule: a command, not a line of iptables-save or iptables -S output/,
    },
    {
      desc: "-D is a delete command",
      input: "-D IP-MASQ-AGENT -d 8.8.8.8/32 -j RETURN",
      want: /-D deletes a rule: a command/,
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const { errors } = parseIptables(c.input);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.reason).toMatch(c.want);
    });

  it("why says the -I line was left out: the answer is not certain", () => {
    const text = [
      "-P POSTROUTING ACCEPT",
      "-N IP-MASQ-AGENT",
      "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
      "-A IP-MASQ-AGENT -j MASQUERADE",
      "-I IP-MASQ-AGENT 1 -d 8.8.8.8/32 -j RETURN",
    ].join("\n");
    const { ruleset, errors } = parseIptables(text);
    const a = analyzeRuleset(ruleset, "ipv4", "IP-MASQ-AGENT");
    a.errors = errors;
    const v = evaluate(a, "8.8.8.8");
    if ("error" in v) throw new Error(v.error);
    expect({ masqueraded: v.masqueraded, certain: v.certain }).toEqual({
      masqueraded: true,
      certain: false,
    });
    expect(v.unknowns.map((u) => u.message)).toEqual([
      "input line 5 was left out (-I inserts a rule: a command, not a line of iptables-save or iptables -S output (which list rules with -A, in order)): -I IP-MASQ-AGENT 1 -d 8.8.8.8/32 -j RETURN",
    ]);
  });
});
