import { analyzeNftFamily, evaluateNft, parseNftJson, type Verdict } from "@masq/shared";
import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { formatVerdict } from "./format-path.js";

/** A rule reference as the evaluator gives it, with its backend when there are two. */
const rule = (chain: string, index: number, text: string, backend?: string) => ({
  chain,
  index,
  text,
  component: { id: "unknown", name: "unknown", by: "none" },
  ...(backend ? { backend } : {}),
});

const legacyMasq = {
  masqueraded: true,
  conditions: [],
  via: ["POSTROUTING"],
  backend: "legacy",
  decidedBy: {
    chain: "POSTROUTING",
    index: 0,
    text: "-A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
    component: { id: "unknown", name: "unknown", by: "none" },
  },
};
const verdict = (backends: number) =>
  ({
    ip: "10.1.2.3",
    masqueraded: true,
    certain: true,
    reason: "legacy: POSTROUTING rule 1 masquerades it",
    outcomes: [legacyMasq],
    unknowns: [],
    ...(backends > 0
      ? { backends: Array.from({ length: backends }, () => ({})), orderMatters: false }
      : {}),
  }) as unknown as Verdict;

// A new user's find: `ipmasq why` said "decided by POSTROUTING rule 1" for a legacy table's rule
// beside iptables-nft's, the backend only on the line after.
describe("formatVerdict: the deciding rule's backend when several were read", () => {
  const cases: { desc: string; input: Verdict; want: string }[] = [
    {
      desc: "two backends read: the backend named",
      input: verdict(2),
      want: "  decided by POSTROUTING rule 1 in iptables-legacy: -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
    },
    {
      desc: "one backend: nothing to tell apart",
      input: verdict(0),
      want: "  decided by POSTROUTING rule 1: -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(formatVerdict(input, "IP-MASQ-AGENT").split("\n")[1]).toBe(want);
  });
});

// The demo's nftables node: kube-proxy's unmarked return and the agent's set return both keep
// 10.1.2.3 (chains of one priority); why named kube-proxy's alone as the rule it kept it by.
describe("formatVerdict: no one deciding rule, the rules that let it pass together", () => {
  const kept = (passedBy: unknown[]) =>
    ({
      ip: "10.1.2.3",
      masqueraded: false,
      certain: true,
      reason: "not masqueraded",
      outcomes: [{ masqueraded: false, result: "accept", conditions: [], via: [], passedBy }],
      unknowns: [],
    }) as unknown as Verdict;
  const cases: { desc: string; input: Verdict; want: string[] }[] = [
    {
      desc: "nftables: kube-proxy's chain and the agent's",
      input: kept([
        rule("ip kube-proxy masquerading", 0, "meta mark & 0x00004000 == 0x00000000 return"),
        rule("inet ip_masq_agent postrouting", 2, "ip daddr @nonmasq_v4 return"),
      ]),
      want: [
        "  let pass by ip kube-proxy masquerading rule 1: meta mark & 0x00004000 == 0x00000000 return",
        "  let pass by inet ip_masq_agent postrouting rule 3: ip daddr @nonmasq_v4 return",
      ],
    },
    {
      desc: "two iptables backends: each rule with its backend",
      input: kept([
        rule("IP-MASQ-AGENT", 1, "-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN", "nf_tables"),
        rule("IP-MASQ-AGENT", 1, "-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN", "legacy"),
      ]),
      want: [
        "  let pass by IP-MASQ-AGENT rule 2 in iptables-nft (nf_tables): -A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN",
        "  let pass by IP-MASQ-AGENT rule 2 in iptables-legacy: -A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN",
      ],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(formatVerdict(input, "IP-MASQ-AGENT").split("\n").slice(1, 3)).toEqual(want);
  });
});

// Marked traffic on the demo's nftables node: kube-proxy's masquerade and the agent's both NAT
// it, in chains of one priority; why named kube-proxy's alone as the rule that did.
describe("formatVerdict: no one deciding rule, the rules that each NAT it the same way", () => {
  const natted = (natBy: unknown[]) =>
    ({
      ip: "203.0.113.9",
      masqueraded: true,
      certain: true,
      reason: "masqueraded",
      outcomes: [{ masqueraded: true, result: "masquerade", conditions: [], via: [], natBy }],
      unknowns: [],
    }) as unknown as Verdict;
  const cases: { desc: string; input: Verdict; want: string[] }[] = [
    {
      desc: "nftables: kube-proxy's chain and the agent's",
      input: natted([
        rule("ip kube-proxy masquerading", 2, "masquerade fully-random"),
        rule("inet ip_masq_agent postrouting", 3, "masquerade fully-random"),
      ]),
      want: [
        "  NATed by whichever of these runs first (an order not in the rules):",
        "    ip kube-proxy masquerading rule 3: masquerade fully-random",
        "    inet ip_masq_agent postrouting rule 4: masquerade fully-random",
      ],
    },
    {
      desc: "two iptables backends: each rule with its backend",
      input: natted([
        rule("IP-MASQ-AGENT", 3, "-A IP-MASQ-AGENT -j MASQUERADE", "nf_tables"),
        rule("IP-MASQ-AGENT", 3, "-A IP-MASQ-AGENT -j MASQUERADE", "legacy"),
      ]),
      want: [
        "  NATed by whichever of these runs first (an order not in the rules):",
        "    IP-MASQ-AGENT rule 4 in iptables-nft (nf_tables): -A IP-MASQ-AGENT -j MASQUERADE",
        "    IP-MASQ-AGENT rule 4 in iptables-legacy: -A IP-MASQ-AGENT -j MASQUERADE",
      ],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(formatVerdict(input, "IP-MASQ-AGENT").split("\n").slice(1, 4)).toEqual(want);
  });
});

// On a Cilium (kube-proxy replacement) nftables node the rules masquerade it, but Cilium's eBPF
// may translate it first: why said "masqueraded by IP-MASQ-AGENT if POSTROUTING jumps to it
// (POSTROUTING is not in the input)", where POSTROUTING was read and was not why.
describe("formatVerdict: not certain for another reason than a missing POSTROUTING", () => {
  it("says so, and neither that POSTROUTING was missing nor that the agent's chain decides", () => {
    const fa = analyzeNftFamily(parseNftJson(nftDump("cilium-kpr-agent")), "ipv4");
    const v = evaluateNft(fa, "203.0.113.9", { source: "10.12.4.5" });
    if ("error" in v) throw new Error(v.error);
    expect([v.masqueraded, v.certain]).toEqual([true, false]);
    const text = formatVerdict(v, "IP-MASQ-AGENT");
    expect(text.split("\n")[0]).toBe(
      '203.0.113.9 is masqueraded as far as these rules say, but not for certain (see "could not see")',
    );
    expect(text).toContain("could not see: Cilium runs on this node");
    const kept = { ...v, masqueraded: false } as Verdict;
    expect(formatVerdict(kept, "IP-MASQ-AGENT").split("\n")[0]).toBe(
      '203.0.113.9 is not masqueraded as far as these rules say, but not for certain (see "could not see")',
    );
  });
});
