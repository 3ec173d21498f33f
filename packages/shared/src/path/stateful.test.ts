// Matches with state or randomness are not one fact across rules, and CONNMARK / SET targets
// change what later connmark / set tests see.
import { describe, expect, it } from "vitest";
import { evaluate } from "../analysis/evaluate.js";
import { analyzeRuleset } from "../analysis/ruleset.js";
import { parseIptables } from "../parser.js";

const save = (rules: string[]) =>
  ["*nat", ":POSTROUTING ACCEPT [0:0]", ...rules, "COMMIT", ""].join("\n");

function verdict(rules: string[]) {
  const v = evaluate(
    analyzeRuleset(parseIptables(save(rules)).ruleset, "ipv4", "IP-MASQ-AGENT"),
    "198.51.100.2",
  );
  if ("error" in v) throw new Error(v.error);
  return { masqueraded: v.masqueraded, results: [...new Set(v.outcomes.map((o) => o.result))] };
}

const twice = (match: string) => [
  `-A POSTROUTING ${match} -j RETURN`,
  `-A POSTROUTING ${match} -j MASQUERADE`,
];

interface Case {
  desc: string;
  input: string[];
  want: { masqueraded: boolean | null; results: string[] };
}

function check(cases: readonly Case[]): void {
  for (const c of cases)
    it(c.desc, () => {
      const v = verdict(c.input);
      expect(v.masqueraded).toBe(c.want.masqueraded);
      expect(v.results.sort()).toEqual(c.want.results.sort());
    });
}

describe("stateful matches are keyed per rule", () => {
  const cases: Case[] = [
    {
      desc: "statistic 0.5 RETURN then statistic 0.5 MASQUERADE: a quarter is masqueraded",
      input: twice("-m statistic --mode random --probability 0.50000000000"),
      want: { masqueraded: null, results: ["masquerade", "accept"] },
    },
    ...[
      "-m limit --limit 5/sec",
      "-m hashlimit --hashlimit-upto 5/sec --hashlimit-name h",
      "-m quota --quota 1000",
      "-m connlimit --connlimit-above 2",
      "-m recent --rcheck --name r",
      "-m connbytes --connbytes 10 --connbytes-dir both --connbytes-mode bytes",
      "-m time --timestart 08:00 --timestop 18:00",
    ].map((m) => ({
      desc: `${m.split(" ")[1]}: the second rule is decided on its own`,
      input: twice(m),
      want: { masqueraded: null, results: ["masquerade", "accept"] },
    })),
    {
      desc: "a conntrack state is one fact: the second rule repeats the first's answer",
      input: twice("-m conntrack --ctstate DNAT"),
      want: { masqueraded: false, results: ["accept"] },
    },
  ];
  check(cases);
});

describe("CONNMARK and SET targets change later tests", () => {
  const cases: Case[] = [
    {
      desc: "connmark RETURN, CONNMARK --set-xmark, connmark MASQUERADE: depends",
      input: [
        "-A POSTROUTING -m connmark --mark 0x1/0x1 -j RETURN",
        "-A POSTROUTING -j CONNMARK --set-xmark 0x1/0x1",
        "-A POSTROUTING -m connmark --mark 0x1/0x1 -j MASQUERADE",
      ],
      want: { masqueraded: null, results: ["masquerade", "accept"] },
    },
    {
      desc: "set RETURN, SET --add-set, set MASQUERADE: depends",
      input: [
        "-A POSTROUTING -m set --match-set S dst -j RETURN",
        "-A POSTROUTING -j SET --add-set S dst",
        "-A POSTROUTING -m set --match-set S dst -j MASQUERADE",
      ],
      want: { masqueraded: null, results: ["masquerade", "accept"] },
    },
    {
      desc: "without a target between them, the set test is one fact: never masqueraded",
      input: [
        "-A POSTROUTING -m set --match-set S dst -j RETURN",
        "-A POSTROUTING -m set --match-set S dst -j MASQUERADE",
      ],
      want: { masqueraded: false, results: ["accept"] },
    },
  ];
  check(cases);
});
