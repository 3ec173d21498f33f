import { CILIUM_KPR_NODE, CILIUM_NODE, FLANNEL_NODE } from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { evaluate } from "../analysis/evaluate.js";
import { analyzeRuleset } from "../analysis/ruleset.js";
import { parseIptables } from "../parser.js";
import { outsideNetfilter } from "./outside-netfilter.js";

describe("outsideNetfilter: Cilium without a masquerade rule of its own", () => {
  const cases: {
    desc: string;
    input: { name: string; masquerades: boolean }[];
    want: string | undefined;
  }[] = [
    {
      desc: "no Cilium chain",
      input: [{ name: "KUBE-POSTROUTING", masquerades: true }],
      want: undefined,
    },
    {
      desc: "Cilium in iptables masquerading mode (its own MASQUERADE rule)",
      input: [{ name: "CILIUM_POST_nat", masquerades: true }],
      want: undefined,
    },
    {
      desc: "Cilium chains without one: eBPF may masquerade",
      input: [
        { name: "CILIUM_POST_nat", masquerades: false },
        { name: "CILIUM_OUTPUT_nat", masquerades: false },
      ],
      want: "CILIUM_POST_nat",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(outsideNetfilter(input)?.chain).toBe(want);
  });
});

describe("an answer on a Cilium node", () => {
  const cases: {
    desc: string;
    input: string;
    want: { masqueraded: boolean | null; certain: boolean; outside: boolean };
  }[] = [
    {
      desc: "BPF masquerading (kube-proxy replacement): the rules' answer, not certain, and why",
      input: CILIUM_KPR_NODE,
      want: { masqueraded: false, certain: false, outside: true },
    },
    {
      desc: "iptables masquerading mode: the rules decide",
      input: CILIUM_NODE,
      want: { masqueraded: true, certain: true, outside: false },
    },
    {
      desc: "no Cilium: unchanged",
      input: FLANNEL_NODE,
      want: { masqueraded: true, certain: true, outside: false },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const a = analyzeRuleset(parseIptables(input).ruleset, "ipv4", "IP-MASQ-AGENT");
    const v = evaluate(a, "203.0.113.9", { source: "10.12.4.7", mark: 0 });
    if ("error" in v) throw new Error(v.error);
    expect({
      masqueraded: v.masqueraded,
      certain: v.certain,
      outside: v.unknowns.some((u) => u.kind === "outside-netfilter"),
    }).toEqual(want);
  });
});
