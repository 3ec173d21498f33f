import { JUMP, ret } from "@masq/testkit/iptables-text";
import { nftDump } from "@masq/testkit/nft-dumps";
import { AGENT_MASQ, natSave } from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import type { Verdict } from "./analysis/evaluate.js";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import { assessNft } from "./nft/assess.js";
import { desiredNftAnalysis } from "./nft/desired-ruleset.js";
import { type NodeRules, nodeVerdicts } from "./node-verdicts.js";
import type { FamilySnapshot, NftSnapshot } from "./protocol.js";
import { desiredChain } from "./rules.js";
import { saveSnapshot } from "./test-fixtures/save-snapshot.js";

/** `iptables-legacy -t nat -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE` on a node. */
const LEGACY_MASQ = saveSnapshot(
  natSave([], ["-A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE"]),
  "ipv4",
  "legacy",
);
/** The agent's chain in sync, in iptables-nft (the default config). */
const AGENT_NFT = saveSnapshot(
  natSave(
    ["IP-MASQ-AGENT"],
    [
      JUMP,
      ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(ret),
      AGENT_MASQ,
    ],
  ),
);
/** The agent chain's rule that keeps the pod IP for 10.1.2.3. */
const AGENT_RETURN = `IP-MASQ-AGENT rule 2: ${ret("10.0.0.0/8")}`;
/** iptables-nft's nat table as kube-proxy in nftables mode leaves it: chains, no rules. */
const EMPTY_NFT = saveSnapshot(natSave([], []));

/** A native nftables node (a real nft dump) with the iptables side its reporter read. */
function nftRules(dump: string, linux: FamilySnapshot[]): NodeRules {
  const ruleset = (nftDump(dump) as { nftables: NftSnapshot["ruleset"] }).nftables;
  const a = assessNft(defaultConfig(), DEFAULT_FLAGS, { backend: "nftables", ruleset }, linux);
  return {
    kind: "nftables",
    actual: a.families[0]!,
    desired: desiredNftAnalysis(defaultConfig(), DEFAULT_FLAGS, "ipv4"),
  };
}

function iptablesRules(snaps: FamilySnapshot[]): NodeRules {
  return { kind: "iptables", snaps, desired: desiredChain(defaultConfig(), DEFAULT_FLAGS, "ipv4") };
}

const rule = (v: Verdict) => {
  const d = v.decidedBy;
  return d
    ? `${d.chain} rule ${d.index + 1}: ${d.text.replace(/ comment "[^"]*"$/, "")}`
    : undefined;
};

describe("nodeVerdicts: every backend holding rules, the desired side in the node's backend", () => {
  const cases: {
    desc: string;
    input: { rules: NodeRules; ip: string; mark?: number };
    want: {
      desired: [boolean | null, string | undefined];
      actual: boolean | null;
      actualRule?: string;
      backends: string[];
    };
  }[] = [
    {
      desc: "nftables node in sync, unmarked: the agent's nft set decides both sides",
      input: { rules: nftRules("kube-proxy-agent", [EMPTY_NFT]), ip: "10.1.2.3", mark: 0 },
      want: {
        desired: [false, "inet ip_masq_agent postrouting rule 3: ip daddr @nonmasq_v4 return"],
        actual: false,
        backends: ["nftables"],
      },
    },
    {
      desc: "nftables node, outside the set: the desired table's masquerade, not IP-MASQ-AGENT's",
      input: { rules: nftRules("kube-proxy-agent", []), ip: "203.0.113.9" },
      want: {
        desired: [true, "inet ip_masq_agent postrouting rule 4: masquerade fully-random"],
        actual: true,
        backends: ["nftables"],
      },
    },
    {
      desc: "nftables node with a legacy rule: masqueraded by it, both backends named",
      input: {
        rules: nftRules("kube-proxy-agent", [EMPTY_NFT, LEGACY_MASQ]),
        ip: "10.1.2.3",
        mark: 0,
      },
      want: {
        desired: [false, "inet ip_masq_agent postrouting rule 3: ip daddr @nonmasq_v4 return"],
        actual: true,
        actualRule: "POSTROUTING rule 1: -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
        backends: ["nftables", "legacy"],
      },
    },
    {
      desc: "iptables-nft agent with a legacy rule: the combined verdict masquerades",
      input: { rules: iptablesRules([AGENT_NFT, LEGACY_MASQ]), ip: "10.1.2.3" },
      want: {
        desired: [false, AGENT_RETURN],
        actual: true,
        actualRule: "POSTROUTING rule 1: -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
        backends: ["nf_tables", "legacy"],
      },
    },
    {
      desc: "iptables-nft agent alone: its chain keeps the pod IP",
      input: { rules: iptablesRules([AGENT_NFT]), ip: "10.1.2.3" },
      want: {
        desired: [false, AGENT_RETURN],
        actual: false,
        actualRule: AGENT_RETURN,
        backends: ["nf_tables"],
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const fields = input.mark === undefined ? {} : { mark: input.mark };
    const r = nodeVerdicts(input.rules, input.ip, fields);
    if ("error" in r) throw new Error(r.error);
    expect({
      desired: [r.desired.masqueraded, rule(r.desired)],
      actual: r.actual.masqueraded,
      ...(want.actualRule ? { actualRule: rule(r.actual) } : {}),
      backends: r.backends,
    }).toEqual(want);
  });

  it("a bad field is an error, not an answer", () => {
    expect(nodeVerdicts(nftRules("kube-proxy-agent", []), "10.1.2")).toHaveProperty("error");
  });
});
