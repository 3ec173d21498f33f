import { analyzeRuleset, type IptablesBackend, parseIptables } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { formatAll } from "./format-backends.js";

const C = "IP-MASQ-AGENT";
/** One backend's nat table: `rules` after the chain declarations. */
function analysis(backend: IptablesBackend, agentChain: boolean, rules: string[]) {
  const text = [
    "*nat",
    ":POSTROUTING ACCEPT [0:0]",
    ...(agentChain ? [`:${C} - [0:0]`] : []),
    ...rules,
    "COMMIT",
    "",
  ];
  return analyzeRuleset(parseIptables(text.join("\n"), "nat").ruleset, "ipv4", C, { backend });
}
const agentRules = [
  `-A POSTROUTING -j ${C}`,
  `-A ${C} -d 10.0.0.0/8 -j RETURN`,
  `-A ${C} -j MASQUERADE`,
];
const otherMasq = ["-A POSTROUTING -d 10.5.0.0/16 -j MASQUERADE"];

describe("formatAll", () => {
  const nft = {
    backend: "nf_tables" as const,
    reason: "the agent's own chain is in iptables-nft (nf_tables)",
  };
  const cases: {
    desc: string;
    input: Parameters<typeof formatAll>;
    want: { has: RegExp[]; hasNot: RegExp[] };
  }[] = [
    {
      desc: "the chain absent from the backend the agent does not write to: not called missing",
      input: [[analysis("nf_tables", true, agentRules), analysis("legacy", false, otherMasq)], nft],
      want: {
        has: [
          /^the agent writes to iptables-nft \(nf_tables\): the agent's own chain is in/,
          /\nin iptables-legacy \(the agent does not write here, so no IP-MASQ-AGENT is expected\):\n {2}path: POSTROUTING\n {2}decided in its nat POSTROUTING:/,
        ],
        hasNot: [
          /legacy\): chain does not exist/,
          /jump from POSTROUTING: missing/,
          /not in the input/,
        ],
      },
    },
    {
      desc: "the chain absent from the backend the agent writes to: still missing",
      input: [[analysis("nf_tables", false, otherMasq), analysis("legacy", false, otherMasq)], nft],
      want: {
        has: [
          /in iptables-nft \(nf_tables\) \(the agent's\):\nIP-MASQ-AGENT \(ipv4, nf_tables\): chain does not exist\n {2}jump from POSTROUTING: missing/,
        ],
        hasNot: [/legacy\): chain does not exist/],
      },
    },
    {
      desc: "the chain in the other backend too: shown, and said to act on packets",
      input: [[analysis("nf_tables", true, agentRules), analysis("legacy", true, agentRules)], nft],
      want: {
        has: [
          /in iptables-legacy \(the agent does not write here, yet IP-MASQ-AGENT is here too and acts on packets/,
        ],
        hasNot: [/does not exist/],
      },
    },
    {
      desc: "from a file (the agent's backend not known): each backend as it is, no claim",
      input: [[analysis("nf_tables", true, agentRules), analysis("legacy", false, otherMasq)]],
      want: { has: [/^in iptables-nft \(nf_tables\):\n/], hasNot: [/the agent writes to/] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const out = formatAll(...input);
    for (const r of want.has) expect(out).toMatch(r);
    for (const r of want.hasNot) expect(out).not.toMatch(r);
  });
});
