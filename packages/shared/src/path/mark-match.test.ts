// Mark tests as the kernel runs them: `--mark V/M` matches when (mark & M) == V (xt_mark.c,
// xt_connmark.c), so a V with bits outside M matches no packet (and its negation every packet).
import { describe, expect, it } from "vitest";
import { evaluate } from "../analysis/evaluate.js";
import { analyzeRuleset } from "../analysis/ruleset.js";
import { parseIptables } from "../parser.js";

const JUMP = "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT";
const AGENT = ["-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN", "-A IP-MASQ-AGENT -j MASQUERADE"];
const save = (rules: string[]) =>
  ["*nat", ":POSTROUTING ACCEPT [0:0]", ":IP-MASQ-AGENT - [0:0]", ...rules, "COMMIT", ""].join(
    "\n",
  );

function verdict(rules: string[], dst: string, fields: { mark?: number } = {}) {
  const v = evaluate(
    analyzeRuleset(parseIptables(save(rules)).ruleset, "ipv4", "IP-MASQ-AGENT"),
    dst,
    fields,
  );
  if ("error" in v) throw new Error(v.error);
  return { masqueraded: v.masqueraded, certain: v.certain };
}

describe("mark values outside their mask", () => {
  const cases: {
    desc: string;
    input: string[];
    want: { masqueraded: boolean | null; certain: boolean };
  }[] = [
    {
      desc: "--mark 0x4001/0x4000 RETURN before the jump never matches: masqueraded, certain",
      input: ["-A POSTROUTING -m mark --mark 0x4001/0x4000 -j RETURN", JUMP, ...AGENT],
      want: { masqueraded: true, certain: true },
    },
    {
      desc: "! --mark 0x4001/0x4000 matches every packet: the RETURN always applies",
      input: ["-A POSTROUTING -m mark ! --mark 0x4001/0x4000 -j RETURN", JUMP, ...AGENT],
      want: { masqueraded: false, certain: true },
    },
    {
      desc: "connmark --mark 0x3/0x1 never matches either",
      input: ["-A POSTROUTING -m connmark --mark 0x3/0x1 -j RETURN", JUMP, ...AGENT],
      want: { masqueraded: true, certain: true },
    },
    {
      desc: "--mark 0x4000/0x4000 (inside its mask) depends on the mark",
      input: ["-A POSTROUTING -m mark --mark 0x4000/0x4000 -j RETURN", JUMP, ...AGENT],
      want: { masqueraded: null, certain: false },
    },
  ];
  for (const c of cases) it(c.desc, () => expect(verdict(c.input, "198.51.100.2")).toEqual(c.want));

  it("inspect lists the never-matching rule as inert", () => {
    const a = analyzeRuleset(
      parseIptables(save(["-A POSTROUTING -m mark --mark 0x4001/0x4000 -j RETURN", JUMP, ...AGENT]))
        .ruleset,
      "ipv4",
      "IP-MASQ-AGENT",
    );
    expect(a.inert.map((r) => `${r.chain} ${r.index}`)).toEqual(["POSTROUTING 0"]);
  });
});

describe("a MARK target forgets what was known of the bits it changes", () => {
  const FAILED = [
    "-A POSTROUTING -s 10.244.0.0/24 -m mark --mark 0x1/0x3 -j RETURN",
    "-A POSTROUTING -j MARK --set-xmark 0x0/0x2",
    "-A POSTROUTING -s 10.244.0.0/24 -m mark --mark 0x1/0x3 -j MASQUERADE",
  ];
  const cases: {
    desc: string;
    input: string[];
    mark?: number;
    want: { masqueraded: boolean | null; certain: boolean };
  }[] = [
    {
      desc: "the same conjunction fails before the MARK and may hold after it: depends",
      input: FAILED,
      want: { masqueraded: null, certain: false },
    },
    {
      desc: "mark 0x3: rule 1 fails, the MARK clears bit 1, rule 3 masquerades pods in 10.244.0.0/24",
      input: FAILED,
      mark: 0x3,
      want: { masqueraded: null, certain: false },
    },
    {
      desc: "a MARK on other bits keeps the failed conjunction: never masqueraded",
      input: [FAILED[0]!, "-A POSTROUTING -j MARK --set-xmark 0x100/0x100", FAILED[2]!],
      want: { masqueraded: false, certain: true },
    },
  ];
  for (const c of cases)
    it(c.desc, () =>
      expect(
        verdict(c.input, "198.51.100.2", c.mark === undefined ? {} : { mark: c.mark }),
      ).toEqual(c.want),
    );
});
