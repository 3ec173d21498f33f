import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import type { PacketFields } from "../analysis/evaluate.js";
import type { Family } from "../cidr.js";
import { analyzeNftFamily } from "./analysis.js";
import { evaluateNft } from "./evaluate.js";
import { parseNftJson } from "./parse.js";

const AGENT = "inet ip_masq_agent postrouting";

describe("evaluateNft on real nft -j output", () => {
  const cases: {
    desc: string;
    input: { dump: string; ip: string; fields?: PacketFields; family?: Family };
    want: {
      masqueraded: boolean | null;
      certain: boolean;
      decidedBy?: string;
      /** No one deciding rule: these, in chains of one priority, let it pass together. */
      passedBy?: string[];
      says?: string[];
    };
  }[] = [
    {
      desc: "agent table: outside the set is masqueraded by the catch-all",
      input: { dump: "agent-default", ip: "203.0.113.9" },
      want: { masqueraded: true, certain: true, decidedBy: `${AGENT} rule 4` },
    },
    {
      desc: "agent table: inside the set returns (the element is named)",
      input: { dump: "agent-default", ip: "10.1.2.3", fields: { source: "10.100.1.5" } },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 3` },
    },
    {
      desc: "agent table without --enable-ipv6: IPv6 returns",
      input: { dump: "agent-default", ip: "2001:db8::1", family: "ipv6" },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 2` },
    },
    {
      desc: "--enable-ipv6: fe80::/10 (link-local) returns, others masquerade",
      input: { dump: "agent-ipv6-ports", ip: "fe80::1", family: "ipv6" },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 3` },
    },
    {
      desc: "--to-ports: every branch masquerades (port shares and the catch-all)",
      input: { dump: "agent-ipv6-ports", ip: "203.0.113.9", fields: { protocol: "icmp" } },
      want: { masqueraded: true, certain: true, decidedBy: `${AGENT} rule 6` },
    },
    {
      desc: "kube-proxy first: marked packets are masqueraded by kube-proxy whatever the agent says",
      input: { dump: "kube-proxy-agent", ip: "10.1.2.3", fields: { mark: 0x4000 } },
      want: {
        masqueraded: true,
        certain: true,
        decidedBy: "ip kube-proxy masquerading rule 3",
      },
    },
    {
      // Both chains are priority 100 (srcnat): which runs last is not in the rules, and each
      // return is needed (marked, kube-proxy masquerades it; outside the set, the agent does).
      desc: "kube-proxy: an unmarked packet passes on (return ends only that chain); the agent's set returns it too",
      input: { dump: "kube-proxy-agent", ip: "10.1.2.3", fields: { mark: 0 } },
      want: {
        masqueraded: false,
        certain: true,
        passedBy: ["ip kube-proxy masquerading rule 1", `${AGENT} rule 3`],
        says: ["each let it pass"],
      },
    },
    {
      desc: "dual stack: IPv6 in @nonmasq_v6 returns past ip6 kube-proxy (unmarked)",
      input: {
        dump: "kube-proxy-dual-stack-agent",
        ip: "fd00::1",
        fields: { mark: 0 },
        family: "ipv6",
      },
      want: {
        masqueraded: false,
        certain: true,
        passedBy: ["ip6 kube-proxy masquerading rule 1", `${AGENT} rule 3`],
      },
    },
    {
      desc: "dual stack: ip6 kube-proxy masquerades its marked IPv6 traffic",
      input: {
        dump: "kube-proxy-dual-stack-agent",
        ip: "fd00::1",
        fields: { mark: 0x4000 },
        family: "ipv6",
      },
      want: { masqueraded: true, certain: true, decidedBy: "ip6 kube-proxy masquerading rule 3" },
    },
    {
      desc: "dual stack: IPv6 outside the set is masqueraded by the agent",
      input: {
        dump: "kube-proxy-dual-stack-agent",
        ip: "2001:db8::1",
        fields: { mark: 0, protocol: "icmpv6" },
        family: "ipv6",
      },
      want: { masqueraded: true, certain: true, decidedBy: `${AGENT} rule 6` },
    },
    {
      desc: "Docker's nftables table: a pod's traffic is the agent's to decide",
      input: { dump: "docker-agent", ip: "10.1.2.3", fields: { source: "10.100.1.5" } },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 3` },
    },
    {
      desc: "Docker's nftables table: a container's depends on the interfaces",
      input: { dump: "docker-agent", ip: "10.1.2.3", fields: { source: "172.17.0.2" } },
      want: { masqueraded: null, certain: false, says: ["meta iifname docker0", "oifname"] },
    },
    {
      desc: "kube-proxy: mark unknown, the answer depends on it",
      input: { dump: "kube-proxy-agent", ip: "10.1.2.3" },
      want: { masqueraded: null, certain: false, says: ["mark"] },
    },
    {
      desc: "flannel with --ip-masq masquerades pod traffic the agent would leave alone",
      input: {
        dump: "flannel-kube-proxy-agent",
        ip: "10.1.2.3",
        fields: { mark: 0, source: "10.100.1.5" },
      },
      want: { masqueraded: true, certain: true, decidedBy: "ip flannel-ipv4 postrtg rule 3" },
    },
    {
      desc: "Calico natOutgoing masquerades a pool address's traffic out of every pool",
      input: { dump: "calico-agent", ip: "172.16.4.4", fields: { source: "10.244.1.5" } },
      want: {
        masqueraded: true,
        certain: true,
        decidedBy: "ip calico nat-cali-nat-outgoing rule 1",
      },
    },
    {
      desc: "Calico: traffic inside the pool is left to the agent (which returns)",
      input: { dump: "calico-agent", ip: "10.244.2.9", fields: { source: "10.244.1.5" } },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 3` },
    },
    {
      desc: "Calico: a source outside its pools is left to the agent",
      input: { dump: "calico-agent", ip: "172.16.4.4", fields: { source: "10.100.1.5" } },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 3` },
    },
    {
      desc: "Cilium (kube-proxy replacement): its few nat rules leave pod traffic to the agent, but its eBPF masquerading is not in any rule: not certain",
      input: { dump: "cilium-kpr-agent", ip: "203.0.113.9", fields: { source: "10.12.4.5" } },
      want: { masqueraded: true, certain: false, decidedBy: `${AGENT} rule 4` },
    },
    {
      desc: "Cilium: the host's traffic from 127.0.0.1 depends on the interface (SNAT out of cilium_host)",
      input: {
        dump: "cilium-kpr-agent",
        ip: "10.12.7.7",
        fields: { source: "127.0.0.1", mark: 0 },
      },
      want: { masqueraded: null, certain: false },
    },
    {
      desc: "hand edit: the deleted element 10.0.0.0/8 is masqueraded now",
      input: { dump: "agent-hand-edit", ip: "10.1.2.3", fields: { source: "10.100.1.5" } },
      want: { masqueraded: true, certain: true, decidedBy: `${AGENT} rule 5` },
    },
    {
      desc: "hand edit: the inserted accept decides for its sources",
      input: { dump: "agent-hand-edit", ip: "203.0.113.9", fields: { source: "10.100.64.9" } },
      want: { masqueraded: false, certain: true, decidedBy: `${AGENT} rule 1` },
    },
    {
      desc: "a statement the analysis does not model: unknown, never an answer",
      input: { dump: "agent-not-understood", ip: "203.0.113.9" },
      want: { masqueraded: null, certain: false, says: ["not understood", "tcp option"] },
    },
    {
      desc: "iptables-nft seen through nft: xt arguments are hidden, so it depends",
      input: { dump: "iptables-nft-aws-agent", ip: "203.0.113.9", fields: { mark: 0 } },
      want: { masqueraded: null, certain: false, says: ["arguments not shown by nft -j"] },
    },
  ];
  /** The case's answer held against what it wants (only the fields it names). */
  function check({ input, want }: (typeof cases)[number]): void {
    const fa = analyzeNftFamily(parseNftJson(nftDump(input.dump)), input.family ?? "ipv4");
    const v = evaluateNft(fa, input.ip, input.fields);
    if ("error" in v) throw new Error(v.error);
    const by = v.decidedBy ? `${v.decidedBy.chain} rule ${v.decidedBy.index + 1}` : undefined;
    expect({ masqueraded: v.masqueraded, certain: v.certain }).toEqual({
      masqueraded: want.masqueraded,
      certain: want.certain,
    });
    if (want.decidedBy) expect(by).toBe(want.decidedBy);
    const passed = v.outcomes[0]?.passedBy?.map((r) => `${r.chain} rule ${r.index + 1}`);
    if (want.passedBy) expect({ by, passed }).toEqual({ by: undefined, passed: want.passedBy });
    for (const s of want.says ?? []) expect(v.reason).toContain(s);
  }
  for (const c of cases) it(c.desc, () => check(c));

  // A new user's find: on nftables nodes `why` and the tester named no config entry for a
  // destination the agent's set keeps (only the final masquerade's), where iptables nodes do.
  const entries: {
    desc: string;
    input: { dump: string; ip: string; fields?: PacketFields; family?: Family };
    want: string | undefined;
  }[] = [
    {
      desc: "the agent's table alone: the element of @nonmasq_v4 that holds it",
      input: { dump: "agent-default", ip: "10.1.2.3" },
      want: "nonMasqueradeCIDRs 10.0.0.0/8 (element of @nonmasq_v4)",
    },
    {
      desc: "link-local, kept by the agent while masqLinkLocal is false",
      input: { dump: "agent-default", ip: "169.254.1.1" },
      want: "link-local 169.254.0.0/16 (masqLinkLocal is false, element of @nonmasq_v4)",
    },
    {
      desc: "beside kube-proxy, both chains letting it pass: the agent's entry",
      input: { dump: "kube-proxy-agent", ip: "10.1.2.3", fields: { mark: 0 } },
      want: "nonMasqueradeCIDRs 10.0.0.0/8 (element of @nonmasq_v4)",
    },
    {
      desc: "an interval of merged blocks: the block of it that holds the address",
      input: { dump: "agent-ranges", ip: "198.51.100.130" },
      want: "nonMasqueradeCIDRs 198.51.100.128/26 (element of @nonmasq_v4)",
    },
    {
      desc: "outside the set: the final masquerade",
      input: { dump: "agent-default", ip: "203.0.113.9" },
      want: "no entry of nonMasqueradeCIDRs or masqueradeCIDRs contains it (the final MASQUERADE)",
    },
    {
      desc: "a hand-inserted accept is no config entry",
      input: { dump: "agent-hand-edit", ip: "203.0.113.9", fields: { source: "10.100.64.9" } },
      want: undefined,
    },
  ];
  for (const { desc, input, want } of entries)
    it(`config entry: ${desc}`, () => {
      const fa = analyzeNftFamily(parseNftJson(nftDump(input.dump)), input.family ?? "ipv4");
      const v = evaluateNft(fa, input.ip, input.fields);
      if ("error" in v) throw new Error(v.error);
      expect(v.outcomes.map((o) => o.entry?.text)).toEqual([want]);
    });

  /** `nft -j list ruleset` of tables a and b, each a priority-100 nat postrouting chain. */
  const twoChains = (a: unknown, b: unknown) => ({
    nftables: [
      ["a", a],
      ["b", b],
    ].flatMap(([table, expr], i) => [
      { table: { family: "ip", name: table, handle: i + 1 } },
      {
        chain: {
          ...{ family: "ip", table, name: "p", handle: 1 },
          ...{ type: "nat", hook: "postrouting", prio: 100, policy: "accept" },
        },
      },
      { rule: { family: "ip", table, chain: "p", handle: 2, expr: [expr] } },
    ]),
  });
  // As with two iptables backends (analysis/backends.test.ts): which chain of one priority runs
  // first (registration order) is not in the rules, so where they translate differently no
  // rule or address is named as the one that applies.
  const sameHook: {
    desc: string;
    input: { a: unknown; b: unknown };
    /** says: the reason still names what each chain would do. */
    want: { named: boolean; results: string[]; says?: string[] };
  }[] = [
    {
      desc: "masquerade and snat at one priority: neither named",
      input: { a: { masquerade: null }, b: { snat: { addr: "192.0.2.1" } } },
      want: {
        named: false,
        results: ["snat:-"],
        says: ["masqueraded by ip a p rule 1, or SNAT'd to 192.0.2.1 by ip b p rule 1 if"],
      },
    },
    {
      // The translation is known; the rule that makes it is not: naming the first listed
      // credited it where the kernel may run the other chain first.
      desc: "masquerade at one priority in both: both named, neither as deciding",
      input: { a: { masquerade: null }, b: { masquerade: null } },
      want: {
        named: false,
        results: ["masquerade:-"],
        says: ["masqueraded by ip a p rule 1 or ip b p rule 1, whichever runs first"],
      },
    },
    {
      // What ip b p does is not known (a rule not modelled): it may NAT it otherwise, first.
      // Naming ip a p's SNAT and its address claimed what the rules do not say.
      desc: "snat and a rule not understood at one priority: neither named",
      input: { a: { snat: { addr: "192.0.2.1" } }, b: { queue: { num: 1 } } },
      want: {
        named: false,
        results: ["snat:-"],
        says: [
          "SNAT'd to 192.0.2.1 by ip a p rule 1, or what ip b p does, which is not known (ip b p rule 1 (handle 2) is not understood",
        ],
      },
    },
  ];
  for (const { desc, input, want } of sameHook)
    it(desc, () => {
      const fa = analyzeNftFamily(parseNftJson(twoChains(input.a, input.b)), "ipv4");
      const v = evaluateNft(fa, "198.51.100.2", { source: "10.244.1.2", mark: 0 });
      if ("error" in v) throw new Error(v.error);
      expect(v.masqueraded).toBe(true);
      expect(v.decidedBy !== undefined).toBe(want.named);
      expect(v.outcomes.map((o) => `${o.result}:${o.toSource ?? "-"}`)).toEqual(want.results);
      for (const text of want.says ?? []) expect(v.reason).toContain(text);
    });

  it("three chains of one priority, two masquerading and one SNATing: both masquerades named", () => {
    // Each of ip a p and ip b p may be the one that masquerades it: naming only the first left
    // out the other, as if it alone ran unless ip c p ran first.
    const three = twoChains({ masquerade: null }, { masquerade: null });
    three.nftables.push(
      { table: { family: "ip", name: "c", handle: 3 } },
      {
        chain: {
          ...{ family: "ip", table: "c", name: "p", handle: 1 },
          ...{ type: "nat", hook: "postrouting", prio: 100, policy: "accept" },
        },
      },
      {
        rule: {
          family: "ip",
          table: "c",
          chain: "p",
          handle: 2,
          expr: [{ snat: { addr: "192.0.2.1" } }],
        },
      },
    );
    const fa = analyzeNftFamily(parseNftJson(three), "ipv4");
    const v = evaluateNft(fa, "198.51.100.2", { source: "10.244.1.2", mark: 0 });
    if ("error" in v) throw new Error(v.error);
    expect([v.masqueraded, v.decidedBy, v.outcomes.map((o) => o.result)]).toEqual([
      true,
      undefined,
      ["snat"],
    ]);
    expect(v.reason).toContain(
      "masqueraded by ip a p rule 1 or ip b p rule 1, whichever runs first, or SNAT'd to 192.0.2.1 by ip c p rule 1 if ip c p runs first",
    );
    expect(v.outcomes[0]!.reason).toContain("ip b p rule 1 masquerades it");
  });

  it("no nat postrouting chain: nothing NATs it", () => {
    const v = evaluateNft(analyzeNftFamily(parseNftJson({ nftables: [] }), "ipv4"), "192.0.2.1");
    expect("error" in v ? v.error : [v.masqueraded, v.certain]).toEqual([false, true]);
  });

  const errors: { desc: string; input: { ip: string; family: Family }; want: string }[] = [
    { desc: "not an address", input: { ip: "10.1", family: "ipv4" }, want: "not" },
    { desc: "other family", input: { ip: "2001:db8::1", family: "ipv4" }, want: "ipv6" },
  ];
  for (const { desc, input, want } of errors)
    it(desc, () => {
      const fa = analyzeNftFamily(parseNftJson(nftDump("agent-default")), input.family);
      const v = evaluateNft(fa, input.ip);
      expect("error" in v ? v.error : "answered").toContain(want);
    });

  it("a ruleset that is not nft -j output is never answered", () => {
    const fa = analyzeNftFamily(parseNftJson({ nftables: [{ bogus: 1 }] }), "ipv4");
    const v = evaluateNft(fa, "192.0.2.1");
    expect("error" in v ? v.error : [v.masqueraded, v.caveats.join()]).toEqual([
      null,
      expect.stringContaining("not nft -j output"),
    ]);
  });
});

describe("evaluateNft across chains that hand a mark on", () => {
  const chain = (table: string, name: string, prio: number) => ({
    chain: { family: "ip", table, name, type: "nat", hook: "postrouting", prio, policy: "accept" },
  });
  const rule = (table: string, name: string, expr: unknown[]) => ({
    rule: { family: "ip", table, chain: name, expr },
  });
  const mark = { meta: { key: "mark" } };
  const marker = [
    { table: { family: "ip", name: "marker" } },
    chain("marker", "post", 50),
    rule("marker", "post", [{ mangle: { key: mark, value: 16384 } }]),
  ];
  const natOnMark = [
    { table: { family: "ip", name: "natter" } },
    chain("natter", "post", 100),
    rule("natter", "post", [
      { match: { op: "==", left: mark, right: 16384 } },
      { masquerade: null },
    ]),
  ];
  const cases: { desc: string; input: unknown[]; want: [boolean | null, boolean] }[] = [
    {
      desc: "a mark set earlier and tested later: unknown",
      input: [...marker, ...natOnMark],
      want: [null, false],
    },
    { desc: "the mark test alone, mark 0: not masqueraded", input: natOnMark, want: [false, true] },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const v = evaluateNft(
        analyzeNftFamily(parseNftJson({ nftables: input }), "ipv4"),
        "192.0.2.1",
        { mark: 0 },
      );
      expect("error" in v ? v.error : [v.masqueraded, v.certain]).toEqual(want);
    });
});

describe("evaluateNft on the largest sets", () => {
  it("a set of 4,096 CIDRs is one lookup: inside returns, outside masquerades", () => {
    const elem = Array.from({ length: 4096 }, (_, i) => ({
      prefix: { addr: `10.${i >> 4}.${(i & 15) * 16}.0`, len: 20 },
    }));
    const json = nftDump("agent-default") as { nftables: Record<string, unknown>[] };
    const nftables = json.nftables.map((o) =>
      "set" in o ? { set: { ...(o.set as object), elem } } : o,
    );
    const fa = analyzeNftFamily(parseNftJson({ nftables }), "ipv4");
    const cases: { input: string; want: [boolean | null, string] }[] = [
      { input: "10.255.240.1", want: [false, `${AGENT} rule 3`] },
      { input: "11.0.0.1", want: [true, `${AGENT} rule 4`] },
    ];
    for (const { input, want } of cases) {
      const v = evaluateNft(fa, input);
      if ("error" in v) throw new Error(v.error);
      const by = v.decidedBy ? `${v.decidedBy.chain} rule ${v.decidedBy.index + 1}` : "";
      expect([v.masqueraded, by]).toEqual(want);
    }
  });
});
