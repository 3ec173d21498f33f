import { chainS, JUMP, MASQ, masq, NON_MASQ, postroutingS, ret } from "@masq/testkit/iptables-text";
import {
  bridgePodsNode,
  GKE_STALE_IP_MASQ_NODE,
  ISSUE_ITEM1_NODE,
  KUBE_POSTROUTING,
  KUBE_POSTROUTING_JUMP,
  KUBELET_OLD_RULE,
  natSave,
} from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { analyzeFamily, analyzeRuleset } from "./analysis/ruleset.js";
import { type AgentFlags, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import {
  computeDrift,
  type Difference,
  type DriftKind,
  driftReport,
  RESYNC_CANNOT_HEAL,
  resyncCannotHeal,
} from "./drift.js";
import { parseIptables } from "./parser.js";
import { desiredChain } from "./rules.js";

const config = defaultConfig();

function kinds(
  chain: string[] | null,
  post = postroutingS(),
  cfg: MasqConfig = config,
  flags: AgentFlags = DEFAULT_FLAGS,
): DriftKind[] {
  const observed = analyzeFamily({
    family: "ipv4",
    chain: "IP-MASQ-AGENT",
    chainText: chain?.join("\n") ?? null,
    postroutingText: post.join("\n"),
  });
  return computeDrift(desiredChain(cfg, flags, "ipv4"), observed).map((d) => d.kind);
}

const legacyRet = (cidr: string) =>
  `-A IP-MASQ-AGENT -d ${cidr} -m comment --comment "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE" -m addrtype ! --dst-type LOCAL -j RETURN`;

const cases: {
  desc: string;
  chain: string[] | null;
  post?: string[];
  cfg?: MasqConfig;
  flags?: AgentFlags;
  want: DriftKind[];
}[] = [
  { desc: "in sync", chain: chainS(), want: [] },
  {
    desc: "missing CIDR",
    chain: chainS(["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12"]),
    want: ["missing-cidr"],
  },
  {
    desc: "unexpected CIDR",
    chain: chainS([
      "169.254.0.0/16",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "100.64.0.0/10",
    ]),
    want: ["unexpected-cidr"],
  },
  { desc: "missing jump", chain: chainS(), post: postroutingS([]), want: ["jump-missing"] },
  {
    desc: "duplicate jump",
    chain: chainS(),
    post: postroutingS([JUMP, JUMP]),
    want: ["jump-duplicate"],
  },
  {
    desc: "jump with other conditions",
    chain: chainS(),
    post: postroutingS(["-A POSTROUTING -o eth0 -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT"]),
    want: ["jump-modified"],
  },
  {
    desc: "jump shadowed by an earlier MASQUERADE",
    chain: chainS(),
    post: postroutingS(["-A POSTROUTING -j MASQUERADE", JUMP]),
    want: ["jump-shadowed"],
  },
  { desc: "MASQUERADE missing", chain: chainS(undefined, []), want: ["masquerade-missing"] },
  {
    desc: "MASQUERADE not last",
    chain: chainS(
      ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12"],
      [masq(), ret("192.168.0.0/16")],
    ),
    want: ["missing-cidr", "masquerade-not-last"],
  },
  {
    desc: "MASQUERADE without --random-fully",
    chain: chainS(undefined, [masq("")]),
    want: ["masquerade-options"],
  },
  {
    desc: "foreign rule",
    chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -s 10.9.0.0/16 -j ACCEPT", ...chainS().slice(1)],
    want: ["foreign-rule"],
  },
  { desc: "chain missing", chain: null, post: postroutingS([]), want: ["chain-missing"] },
  {
    desc: "older agent rules are cosmetic",
    chain: [
      "-N IP-MASQ-AGENT",
      ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(legacyRet),
      masq(),
    ],
    want: ["cosmetic"],
  },
  {
    desc: "another order is cosmetic",
    chain: chainS(["10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16", "172.16.0.0/12"]),
    want: ["cosmetic"],
  },
  {
    desc: "a redundant RETURN inside another is cosmetic",
    chain: chainS([
      "169.254.0.0/16",
      "10.0.0.0/8",
      "10.1.0.0/16",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]),
    want: ["cosmetic"],
  },
  {
    desc: "split blocks covering the desired one are cosmetic",
    chain: chainS([
      "169.254.0.0/16",
      "10.0.0.0/9",
      "10.128.0.0/9",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]),
    want: ["cosmetic"],
  },
  {
    desc: "a jump without upstream's quotes is cosmetic",
    chain: chainS(),
    post: postroutingS([
      '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
    ]),
    want: ["cosmetic"],
  },
  {
    desc: "unreadable line",
    chain: [...chainS(), '-A IP-MASQ-AGENT -m comment --comment "oops'],
    // The kernel has that rule after the final MASQUERADE, whatever it is.
    want: ["unreadable", "masquerade-not-last"],
  },
  {
    desc: "to-ports rules as iptables prints them are in sync",
    chain: [
      "-N IP-MASQ-AGENT",
      ret("169.254.0.0/16"),
      ...["tcp", "udp", "sctp"].flatMap((p) => [
        `-A IP-MASQ-AGENT -p ${p} ${MASQ} -m statistic --mode random --probability 0.46929256349 -j MASQUERADE --to-ports 1024-29999 --random-fully`,
        `-A IP-MASQ-AGENT -p ${p} ${MASQ} -j MASQUERADE --to-ports 32768-65535 --random-fully`,
      ]),
      masq(),
    ],
    cfg: { ...config, nonMasqueradeCIDRs: [] },
    flags: { ...DEFAULT_FLAGS, toPorts: "1024-29999,32768-65535" },
    want: [],
  },
];

describe("computeDrift", () => {
  for (const c of cases)
    it(c.desc, () => expect(kinds(c.chain, c.post, c.cfg, c.flags)).toEqual(c.want));

  it("explains what a difference means for traffic", () => {
    const observed = analyzeFamily({
      family: "ipv4",
      chain: "IP-MASQ-AGENT",
      chainText: chainS(["169.254.0.0/16"]).join("\n"),
      postroutingText: postroutingS().join("\n"),
    });
    const diffs = computeDrift(desiredChain(config, DEFAULT_FLAGS, "ipv4"), observed);
    expect(diffs[0]).toMatchObject({
      kind: "missing-cidr",
      severity: "critical",
      cidr: "10.0.0.0/8",
      impact: "traffic to 10.0.0.0/8 is masqueraded but should keep the pod address",
    });
  });
});

/** Drift of a whole nat table (iptables-save or -S text), as the CLI reads one. */
function tableDrift(text: string, cidrs?: string[]): Difference[] {
  const { ruleset } = parseIptables(text);
  const cfg = cidrs ? { ...config, nonMasqueradeCIDRs: cidrs } : config;
  return computeDrift(
    desiredChain(cfg, DEFAULT_FLAGS, "ipv4"),
    analyzeRuleset(ruleset, "ipv4", "IP-MASQ-AGENT"),
  );
}

const brief = (d: Difference) => `${d.severity} ${d.kind}: ${d.message}`;

describe("computeDrift on the packet's path", () => {
  const tableCases: {
    desc: string;
    input: string;
    cidrs?: string[];
    want: string[];
    impact?: RegExp;
  }[] = [
    {
      desc: "item 1: a CNI chain masquerading pods in 10.100.64.64/26 first is a warning naming it",
      input: ISSUE_ITEM1_NODE,
      cidrs: ["10.0.0.0/8"],
      want: [
        "warning jump-shadowed: CNI-0a1b2c3d4e5f60718293a4b5 rule 2 (CNI bridge plugin (ipMasq)) masquerades traffic before IP-MASQ-AGENT is reached",
        "warning masquerade-options: MASQUERADE options differ (want MASQUERADE --random-fully)",
      ],
      impact:
        /^pod traffic with source in 10\.100\.64\.64\/26 to 169\.254\.0\.0\/16, 10\.0\.0\.0\/8 except 10\.100\.64\.64\/26 is masqueraded though the config keeps the pod address for it$/,
    },
    {
      desc: "one finding for the bridge plugin's chain of every pod",
      input: bridgePodsNode(3),
      want: [
        "warning jump-shadowed: CNI-000000000000000000000000 rule 2 (CNI bridge plugin (ipMasq)) and 2 more like it masquerade traffic before IP-MASQ-AGENT is reached",
      ],
      impact:
        /^pod traffic with source in 10\.244\.0\.2\/32, source in 10\.244\.0\.3\/32, source in 10\.244\.0\.4\/32 to 169\.254\.0\.0\/16, 10\.0\.0\.0\/8 except 10\.244\.0\.0\/16, 172\.16/,
    },
    {
      desc: "item 1: kube-proxy masquerading the traffic it marked is by design",
      input: natSave(
        ["IP-MASQ-AGENT", "KUBE-POSTROUTING"],
        [KUBE_POSTROUTING_JUMP, JUMP, ...chainS().slice(1), ...KUBE_POSTROUTING],
      ),
      want: [],
    },
    {
      desc: "item 1: GKE's stale IP-MASQ chain masquerades 100.64.0.0/10 for every pod: critical",
      input: GKE_STALE_IP_MASQ_NODE,
      cidrs: ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
      want: [
        "critical jump-shadowed: IP-MASQ rule 5 (an older ip-masq-agent) masquerades traffic before IP-MASQ-AGENT is reached",
      ],
      impact: /^all pod traffic to 100\.64\.0\.0\/10 is masqueraded/,
    },
    {
      desc: "a stale chain that agrees with the config makes no difference",
      input: GKE_STALE_IP_MASQ_NODE,
      cidrs: ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
      want: ["critical unexpected-cidr: 100.64.0.0/10 is not in the config"],
    },
    {
      desc: "a MASQUERADE after the agent's chain undoes its RETURNs",
      input: natSave(
        ["IP-MASQ-AGENT"],
        [JUMP, "-A POSTROUTING -j MASQUERADE", ...chainS().slice(1)],
      ),
      want: [
        "critical masqueraded-after: POSTROUTING rule 2 masquerades traffic after IP-MASQ-AGENT returned it",
      ],
    },
    {
      desc: "an ACCEPT before the jump keeps addresses the config masquerades",
      input: natSave(
        ["IP-MASQ-AGENT"],
        ["-A POSTROUTING -d 198.51.100.0/24 -j ACCEPT", JUMP, ...chainS().slice(1)],
      ),
      want: [
        "critical jump-shadowed: POSTROUTING rule 1 accepts traffic before IP-MASQ-AGENT is reached",
      ],
      impact: /^all pod traffic to 198\.51\.100\.0\/24 leaves with the pod address/,
    },
    {
      desc: "an ACCEPT of destinations the config keeps anyway is no difference",
      input: natSave(
        ["IP-MASQ-AGENT"],
        ["-A POSTROUTING -d 10.9.0.0/16 -j ACCEPT", JUMP, ...chainS().slice(1)],
      ),
      want: [],
    },
    {
      desc: "item 1: a TCP-only RETURN is not a RETURN for all traffic",
      input: natSave(
        ["IP-MASQ-AGENT"],
        [
          JUMP,
          ...chainS(
            ["169.254.0.0/16"],
            ["-A IP-MASQ-AGENT -p tcp -d 8.8.8.8/32 -j RETURN", masq()],
          ).slice(1),
        ],
      ),
      cidrs: ["8.8.8.8/32"],
      want: [
        "critical missing-cidr: 8.8.8.8/32 is missing",
        "warning foreign-rule: rule 2 of IP-MASQ-AGENT was not written by the agent (RETURN)",
      ],
    },
    {
      desc: "item 2: kubelet's old rule matches nothing and changes nothing",
      input: natSave(["IP-MASQ-AGENT"], [KUBELET_OLD_RULE, JUMP, ...chainS().slice(1)]),
      want: [],
    },
    {
      desc: "item 3: nonMasqueradeCIDRs [0.0.0.0/0] as iptables prints it is in sync",
      input: natSave(
        ["IP-MASQ-AGENT"],
        [JUMP, ret("169.254.0.0/16"), `-A IP-MASQ-AGENT ${NON_MASQ} -j RETURN`, masq()],
      ),
      cidrs: ["0.0.0.0/0"],
      want: [],
    },
    {
      desc: "item 4: the chain alone has no jump to miss",
      input: chainS().join("\n"),
      want: [],
    },
    {
      desc: "item 4: the chain alone still shows a missing CIDR",
      input: chainS(["169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]).join("\n"),
      want: ["critical missing-cidr: 10.0.0.0/8 is missing"],
    },
  ];
  for (const c of tableCases)
    it(c.desc, () => {
      const diffs = tableDrift(c.input, c.cidrs);
      expect(diffs.map(brief)).toEqual(c.want);
      if (c.impact) expect(diffs[0]?.impact).toMatch(c.impact);
    });
});

describe("driftReport", () => {
  it("is in sync with only cosmetic differences", () => {
    const r = driftReport([{ kind: "cosmetic", severity: "info", scope: "ipv4", message: "x" }]);
    expect(r).toMatchObject({
      status: "in-sync",
      cosmetic: true,
      summary: "in sync (cosmetic differences)",
    });
  });
  it("summarises drift in a few words", () => {
    const r = driftReport([
      {
        kind: "missing-cidr",
        severity: "critical",
        scope: "ipv4",
        message: "",
        cidr: "10.0.0.0/8",
      },
      { kind: "jump-missing", severity: "critical", scope: "ipv4", message: "" },
      { kind: "cosmetic", severity: "info", scope: "ipv4", message: "" },
    ]);
    expect(r.status).toBe("drifted");
    expect(r.summary).toBe("missing 10.0.0.0/8, jump missing");
  });
});

describe("resyncCannotHeal", () => {
  const d = (kind: DriftKind, severity: Difference["severity"] = "critical"): Difference => ({
    kind,
    severity,
    scope: "ipv4",
    message: "",
  });
  const cases: { desc: string; input: Difference[]; want: string | null }[] = [
    { desc: "nothing differs: nothing to heal, no reason", input: [], want: null },
    {
      desc: "the agent's own chain differs: a resync heals it",
      input: [d("missing-cidr")],
      want: null,
    },
    {
      desc: "only another component's NAT before the chain (kube-proxy, a CNI)",
      input: [d("jump-shadowed")],
      want: RESYNC_CANNOT_HEAL.other,
    },
    {
      desc: "another component's NAT after the chain, plus a cosmetic difference a resync rewrites",
      input: [d("masqueraded-after", "warning"), d("cosmetic", "info")],
      want: RESYNC_CANNOT_HEAL.other,
    },
    {
      desc: "only the other iptables backend",
      input: [d("backend-conflict")],
      want: RESYNC_CANNOT_HEAL.backend,
    },
    {
      desc: "other components and the other backend",
      input: [d("jump-shadowed"), d("backend-conflict", "warning")],
      want: RESYNC_CANNOT_HEAL.both,
    },
    {
      desc: "an nftables node's own iptables chain left beside its table: the next apply removes it",
      input: [{ ...d("backend-conflict", "warning"), removedByApply: true }],
      want: null,
    },
    {
      desc: "that leftover chain beside another component's NAT: the apply still changes the node",
      input: [
        d("masqueraded-after"),
        { ...d("backend-conflict", "warning"), removedByApply: true },
      ],
      want: null,
    },
    {
      desc: "a Windows OutBoundNAT list mixing IPv4 and IPv6 entries: a rewrite keeps them mixed",
      input: [d("mixed-families", "warning"), d("ipv6-ignored", "info")],
      want: RESYNC_CANNOT_HEAL.mixed,
    },
    {
      desc: "that mixed list beside a missing CIDR: the rewrite adds it",
      input: [d("mixed-families", "warning"), d("missing-cidr")],
      want: null,
    },
    {
      desc: "other components' rules beside a missing jump: a resync changes the node",
      input: [d("jump-shadowed"), d("jump-missing")],
      want: null,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(resyncCannotHeal(input)).toBe(want);
  });
});
