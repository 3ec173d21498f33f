import { JUMP } from "@masq/testkit/iptables-text";
import { nftDump } from "@masq/testkit/nft-dumps";
import {
  AGENT_MASQ,
  agentReturn,
  ISSUE_ITEM1_NODE,
  KUBE_POSTROUTING,
  KUBE_POSTROUTING_JUMP,
  natSave,
} from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import type { PacketFields } from "./analysis/evaluate.js";
import { evaluateSnapshots } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import { assessNft } from "./nft/assess.js";
import { evaluateNft } from "./nft/evaluate.js";
import type { NftSnapshot } from "./protocol.js";
import { saveSnapshot } from "./test-fixtures/save-snapshot.js";
import { type BranchGroup, foldAnswer, verdictView } from "./verdict-view.js";

const CNI = "CNI-0a1b2c3d4e5f60718293a4b5";

function viewOf(save: string, ip: string, fields: PacketFields = {}) {
  const v = evaluateSnapshots([saveSnapshot(save)], "IP-MASQ-AGENT", ip, fields);
  if ("error" in v) throw new Error(v.error);
  return verdictView(v);
}

const brief = (g: BranchGroup) => ({
  title: g.title,
  answer: g.answer,
  branches: g.branches.map((b) => `${b.when.join(" and ") || "all"} → ${b.summary}`),
});

describe("verdictView", () => {
  const cases: {
    desc: string;
    input: { save: string; ip: string; fields?: PacketFields };
    want: { answer: string; certain: boolean; groups: ReturnType<typeof brief>[] };
  }[] = [
    {
      desc: "issue item 1: kube-proxy's mark and the CNI chain make the answer depend; unmarked first",
      input: { save: ISSUE_ITEM1_NODE, ip: "10.20.30.40" },
      want: {
        answer: "depends",
        certain: false,
        groups: [
          {
            title: "Unmarked packets (pod traffic as it usually is)",
            answer: "depends",
            branches: [
              `source in 10.100.64.64/26 → masqueraded by ${CNI} rule 2 (CNI bridge plugin (ipMasq))`,
              "source not in 10.100.64.64/26 → keeps its address (IP-MASQ-AGENT rule 2 (ip-masq-agent) returns it)",
            ],
          },
          {
            title: "Packets with mark bit 0x4000 set (kube-proxy marks service traffic it SNATs)",
            answer: "masqueraded",
            branches: ["mark bit 0x4000 set → masqueraded by KUBE-POSTROUTING rule 1 (kube-proxy)"],
          },
        ],
      },
    },
    {
      desc: "issue item 1 with a source outside the CNI range and mark 0: one certain answer",
      input: {
        save: ISSUE_ITEM1_NODE,
        ip: "10.20.30.40",
        fields: { source: "10.100.65.70", mark: 0 },
      },
      want: { answer: "not-masqueraded", certain: true, groups: [] },
    },
    {
      desc: "a protocol-only RETURN: TCP keeps the pod IP, other protocols are masqueraded",
      input: {
        save: natSave(
          ["IP-MASQ-AGENT"],
          [
            "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
            "-A IP-MASQ-AGENT -d 8.8.8.8/32 -p tcp -j RETURN",
            "-A IP-MASQ-AGENT -j MASQUERADE",
          ],
        ),
        ip: "8.8.8.8",
      },
      want: {
        answer: "depends",
        certain: false,
        groups: [
          {
            title: "",
            answer: "depends",
            branches: [
              "-p tcp → keeps its address (IP-MASQ-AGENT rule 1 (ip-masq-agent) returns it)",
              "! -p tcp → masqueraded by IP-MASQ-AGENT rule 2 (ip-masq-agent)",
            ],
          },
        ],
      },
    },
    {
      desc: "the agent chain alone: masqueraded, not certain (POSTROUTING not read)",
      input: {
        save: "*nat\n:IP-MASQ-AGENT - [0:0]\n-A IP-MASQ-AGENT -j MASQUERADE\nCOMMIT\n",
        ip: "1.1.1.1",
      },
      want: { answer: "masqueraded", certain: false, groups: [] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const v = viewOf(input.save, input.ip, input.fields);
    expect({ answer: v.answer, certain: v.certain, groups: v.groups.map(brief) }).toEqual(want);
  });

  it("an unread chain is unknown and said", () => {
    const save = natSave(
      ["IP-MASQ-AGENT"],
      [
        "-A POSTROUTING -j SOMEWHERE",
        "-A POSTROUTING -j IP-MASQ-AGENT",
        "-A IP-MASQ-AGENT -j MASQUERADE",
      ],
    );
    const v = viewOf(save, "1.1.1.1");
    expect(v.answer).toBe("unknown");
    expect(v.unknowns.join(" ")).toMatch(/SOMEWHERE/);
  });
});

describe("foldAnswer", () => {
  const cases = [
    { desc: "all true", input: [true, true], want: "masqueraded" },
    { desc: "all false", input: [false], want: "not-masqueraded" },
    { desc: "both", input: [true, false, null], want: "depends" },
    { desc: "one unknown", input: [false, null], want: "unknown" },
    { desc: "nothing", input: [], want: "unknown" },
  ] as const;
  it.each(cases)("$desc", ({ input, want }) => expect(foldAnswer(input)).toBe(want));
});

/** An in-sync iptables node with kube-proxy (iptables mode): its KUBE-POSTROUTING, then the agent. */
const KUBE_PROXY_IPTABLES_NODE = natSave(
  ["IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    JUMP,
    ...["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(agentReturn),
    AGENT_MASQ,
    ...KUBE_POSTROUTING,
  ],
);

/** The tester's view on a native nftables node (a real nft dump), as the dashboard asks it. */
function nftViewOf(dump: string, ip: string, fields: PacketFields = {}) {
  const ruleset = (nftDump(dump) as { nftables: NftSnapshot["ruleset"] }).nftables;
  const a = assessNft(defaultConfig(), DEFAULT_FLAGS, { backend: "nftables", ruleset });
  const v = evaluateNft(a.families[0]!, ip, fields);
  if ("error" in v) throw new Error(v.error);
  return verdictView(v);
}

describe("verdictView: the unmarked group is the branches mark 0 takes, whatever the rule's sense", () => {
  const UNMARKED = "Unmarked packets (pod traffic as it usually is)";
  const KUBE_MARKED =
    "Packets with mark bit 0x4000 set (kube-proxy marks service traffic it SNATs)";
  /** Unmarked packets kept by `kept`, kube-proxy's marked ones masqueraded by `kube`. */
  const kubeProxySplit = (kept: string, kube: string) => ({
    answer: "depends",
    compared: "not-masqueraded",
    groups: [
      {
        title: UNMARKED,
        answer: "not-masqueraded" as const,
        branches: [`all → keeps its address (${kept})`],
      },
      {
        title: KUBE_MARKED,
        answer: "masqueraded" as const,
        branches: [`mark bit 0x4000 set → masqueraded by ${kube} (kube-proxy)`],
      },
    ],
  });
  const cases: {
    desc: string;
    input: { node: "iptables" | "nftables"; ip: string; fields?: PacketFields };
    want: { answer: string; compared: string; groups: ReturnType<typeof brief>[] };
  }[] = [
    {
      desc: "nftables kube-proxy (`mark & 0x4000 == 0 return`): unmarked keeps its address",
      input: { node: "nftables", ip: "10.1.2.3" },
      // Both base chains are priority 100: both returns keep it, neither alone (nft/evaluate.ts).
      want: kubeProxySplit(
        "ip kube-proxy masquerading rule 1 (kube-proxy) and inet ip_masq_agent postrouting rule 3 (ip-masq-agent) each let it pass",
        "ip kube-proxy masquerading rule 3",
      ),
    },
    {
      // Marked packets are masqueraded by both chains of priority 100: neither named alone.
      desc: "nftables kube-proxy, outside the set: masqueraded either way, by whichever runs first",
      input: { node: "nftables", ip: "203.0.113.9" },
      want: {
        answer: "masqueraded",
        compared: "masqueraded",
        groups: [
          {
            title: UNMARKED,
            answer: "masqueraded",
            branches: [
              "all → masqueraded by inet ip_masq_agent postrouting rule 4 (ip-masq-agent)",
            ],
          },
          {
            title: KUBE_MARKED,
            answer: "masqueraded",
            branches: [
              "mark bit 0x4000 set → masqueraded by ip kube-proxy masquerading rule 3 (kube-proxy) or inet ip_masq_agent postrouting rule 4 (ip-masq-agent), whichever runs first",
            ],
          },
        ],
      },
    },
    {
      desc: "nftables kube-proxy with mark 0: one answer, not masqueraded",
      input: { node: "nftables", ip: "10.1.2.3", fields: { mark: 0 } },
      want: { answer: "not-masqueraded", compared: "not-masqueraded", groups: [] },
    },
    {
      desc: "iptables kube-proxy (`! --mark 0x4000/0x4000 -j RETURN`): unmarked keeps its address",
      input: { node: "iptables", ip: "10.1.2.3" },
      want: kubeProxySplit(
        "IP-MASQ-AGENT rule 1 (ip-masq-agent) returns it",
        "KUBE-POSTROUTING rule 3",
      ),
    },
    {
      desc: "iptables kube-proxy with kube-proxy's mark: masqueraded by it",
      input: { node: "iptables", ip: "10.1.2.3", fields: { mark: 0x4000 } },
      want: { answer: "masqueraded", compared: "masqueraded", groups: [] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const v =
      input.node === "nftables"
        ? nftViewOf("kube-proxy-agent", input.ip, input.fields)
        : viewOf(KUBE_PROXY_IPTABLES_NODE, input.ip, input.fields);
    expect({ answer: v.answer, compared: v.compared, groups: v.groups.map(brief) }).toEqual(want);
  });

  // A new user's find: with mark 0x4000 given, an in-sync nftables node read "treats …
  // differently than configured" for kube-proxy's own SNAT of the service traffic it marked.
  it.each([
    { desc: "nftables", node: "nftables" as const, mark: 0x4000, want: true },
    { desc: "iptables", node: "iptables" as const, mark: 0x4000, want: true },
    {
      desc: "nftables, mark 0 (decided by the agent)",
      node: "nftables" as const,
      mark: 0,
      want: undefined,
    },
  ])(
    "a packet kube-proxy marked is its own to NAT, not held against the config: $desc",
    ({ node, mark, want }) => {
      const v =
        node === "nftables"
          ? nftViewOf("kube-proxy-agent", "10.1.2.3", { mark })
          : viewOf(KUBE_PROXY_IPTABLES_NODE, "10.1.2.3", { mark });
      expect(v.kubeProxyMarked).toBe(want);
    },
  );

  it("a drift the unmarked packets see is still held against the config (issue item 1's CNI chain)", () => {
    const v = viewOf(ISSUE_ITEM1_NODE, "10.20.30.40");
    expect([v.answer, v.compared]).toEqual(["depends", "depends"]);
  });
});
