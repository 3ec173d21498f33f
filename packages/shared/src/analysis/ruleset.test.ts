import { chainS, JUMP, masq, postroutingS } from "@masq/testkit/iptables-text";
import {
  AWS_VPC_CNI_NODE,
  CALICO_NODE,
  CILIUM_NODE,
  DOCKER_NODE,
  FLANNEL_NODE,
  FLANNEL_OLD_NODE,
  GKE_STALE_IP_MASQ_NODE,
  ISSUE_ITEM1_NODE,
  KUBE_POSTROUTING,
  KUBE_POSTROUTING_JUMP,
  KUBELET_OLD_RULE,
  natSave,
  OLD_AGENT_CHAIN,
  OVN_NODE,
  PORTMAP_NODE,
} from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import type { Family } from "../cidr.js";
import { parseIptables } from "../parser.js";
import { evaluate, type PacketFields, type Verdict } from "./evaluate.js";
import { analyzeFamily, analyzeRuleset } from "./ruleset.js";
import type { FamilyAnalysis } from "./types.js";

const fromText = (text: string, family: Family = "ipv4"): FamilyAnalysis => {
  const { ruleset, errors } = parseIptables(text);
  expect(errors).toEqual([]);
  return analyzeRuleset(ruleset, family, "IP-MASQ-AGENT");
};

const verdict = (a: FamilyAnalysis, ip: string, fields: PacketFields = {}): Verdict => {
  const v = evaluate(a, ip, fields);
  if ("error" in v) throw new Error(v.error);
  return v;
};

const ref = (r?: { chain: string; index: number }) => (r ? `${r.chain}#${r.index + 1}` : undefined);

/** An agent chain in a node with the default POSTROUTING (kube-proxy's chain read too). */
const node = (agent: string[], post = [KUBE_POSTROUTING_JUMP, JUMP]) =>
  [...agent, ...postroutingS(post), "-N KUBE-POSTROUTING", ...KUBE_POSTROUTING].join("\n");

interface Want {
  masqueraded: boolean | null;
  certain?: boolean;
  by?: string;
  component?: string;
  /** Each outcome as "conditions → masqueraded by CHAIN#N" (in evaluation order). */
  outcomes?: string[];
  because?: string[];
  reason?: RegExp;
  toSource?: string;
}

const outcomeLine = (o: Verdict["outcomes"][number]) =>
  `${o.when.join(" & ") || "all"} → ${o.masqueraded === null ? "unknown" : o.masqueraded ? "masq" : "keep"}${o.decidedBy ? ` ${ref(o.decidedBy)}` : ""}`;

const cases: { desc: string; input: string; ip: string; fields?: PacketFields; want: Want }[] = [
  // Issue 11, item 1: other SNAT on the path.
  {
    desc: "item 1: 10.20.30.40 depends on the source (CNI bridge) and kube-proxy's mark",
    input: ISSUE_ITEM1_NODE,
    ip: "10.20.30.40",
    want: {
      masqueraded: null,
      certain: false,
      outcomes: [
        "mark bit 0x4000 set → masq KUBE-POSTROUTING#1",
        "source in 10.100.64.64/26 & mark bit 0x4000 clear → masq CNI-0a1b2c3d4e5f60718293a4b5#2",
        "source not in 10.100.64.64/26 & mark bit 0x4000 clear → keep IP-MASQ-AGENT#2",
      ],
    },
  },
  {
    desc: "item 1: a pod in 10.100.64.64/26 is masqueraded whatever its mark",
    input: ISSUE_ITEM1_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.100.64.70" },
    want: { masqueraded: true, certain: true, by: undefined },
  },
  {
    desc: "item 1: a pod in 10.100.64.64/26 without kube-proxy's mark: the CNI chain decides",
    input: ISSUE_ITEM1_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.100.64.70", mark: 0 },
    want: {
      masqueraded: true,
      certain: true,
      by: "CNI-0a1b2c3d4e5f60718293a4b5#2",
      component: "cni-bridge",
    },
  },
  {
    desc: "item 1: a pod elsewhere keeps its address unless kube-proxy marked the packet",
    input: ISSUE_ITEM1_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.100.65.70" },
    want: {
      masqueraded: null,
      outcomes: [
        "mark bit 0x4000 set → masq KUBE-POSTROUTING#1",
        "mark bit 0x4000 clear → keep IP-MASQ-AGENT#2",
      ],
    },
  },
  {
    desc: "item 1: a pod elsewhere, unmarked: the agent's 10.0.0.0/8 RETURN decides",
    input: ISSUE_ITEM1_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.100.65.70", mark: 0 },
    want: {
      masqueraded: false,
      certain: true,
      by: "IP-MASQ-AGENT#2",
      component: "ip-masq-agent",
      because: ["10.20.30.40 is in 10.0.0.0/8"],
    },
  },
  {
    desc: "item 1: a conditional agent RETURN makes the answer depend on the protocol",
    input: node(
      chainS(["169.254.0.0/16"], ["-A IP-MASQ-AGENT -p tcp -d 8.8.8.8/32 -j RETURN", masq()]),
    ),
    ip: "8.8.8.8",
    fields: { mark: 0 },
    want: {
      masqueraded: null,
      certain: false,
      outcomes: ["-p tcp → keep IP-MASQ-AGENT#2", "! -p tcp → masq IP-MASQ-AGENT#3"],
    },
  },
  {
    desc: "item 1: ... and UDP to 8.8.8.8 is masqueraded",
    input: node(
      chainS(["169.254.0.0/16"], ["-A IP-MASQ-AGENT -p tcp -d 8.8.8.8/32 -j RETURN", masq()]),
    ),
    ip: "8.8.8.8",
    fields: { mark: 0, protocol: "udp" },
    want: { masqueraded: true, certain: true, by: "IP-MASQ-AGENT#3" },
  },
  {
    desc: "item 1: ... and TCP to 8.8.8.8 keeps the pod address",
    input: node(
      chainS(["169.254.0.0/16"], ["-A IP-MASQ-AGENT -p tcp -d 8.8.8.8/32 -j RETURN", masq()]),
    ),
    ip: "8.8.8.8",
    fields: { mark: 0, protocol: "tcp" },
    want: {
      masqueraded: false,
      certain: true,
      by: "IP-MASQ-AGENT#2",
      because: ["the protocol is tcp", "8.8.8.8 is in 8.8.8.8/32"],
    },
  },
  {
    desc: "a destination port decides a port-limited RETURN",
    input: node(
      chainS([], ["-A IP-MASQ-AGENT -p udp -m udp --dport 53 -d 8.8.8.8/32 -j RETURN", masq()]),
    ),
    ip: "8.8.8.8",
    fields: { mark: 0, protocol: "udp", dport: 53 },
    want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#1" },
  },
  // Issue 11, item 2: negations and rules that match nothing.
  {
    desc: "item 2: an old-style negated RETURN says what is true",
    input: node(["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -d ! 8.8.8.8/32 -j RETURN", masq()]),
    ip: "1.1.1.1",
    fields: { mark: 0 },
    want: { masqueraded: false, by: "IP-MASQ-AGENT#1", because: ["1.1.1.1 is not in 8.8.8.8/32"] },
  },
  {
    desc: "item 2: kubelet's old ! -d 0.0.0.0/0 rule never masquerades",
    input: node(chainS(), [KUBE_POSTROUTING_JUMP, KUBELET_OLD_RULE, JUMP]),
    ip: "10.1.2.3",
    fields: { mark: 0 },
    want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#2" },
  },
  // Issue 11, item 3: what iptables leaves out.
  {
    desc: "item 3: a RETURN without -d (0.0.0.0/0) keeps every address",
    input: node([
      "-N IP-MASQ-AGENT",
      '-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN',
      masq(),
    ]),
    ip: "8.8.8.8",
    fields: { mark: 0 },
    want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#1" },
  },
  {
    desc: "item 3: a host address printed without /32",
    input: node(chainS([], ["-A IP-MASQ-AGENT -d 192.0.2.7 -j RETURN", masq()])),
    ip: "192.0.2.7",
    fields: { mark: 0 },
    want: { masqueraded: false, by: "IP-MASQ-AGENT#1", because: ["192.0.2.7 is in 192.0.2.7"] },
  },
  // Issue 11, item 4: only part of the node.
  {
    desc: "item 4: the chain alone answers for the chain, not certain",
    input: chainS().join("\n"),
    ip: "8.8.8.8",
    want: {
      masqueraded: true,
      certain: false,
      by: "IP-MASQ-AGENT#5",
      reason: /POSTROUTING|masquerades/,
    },
  },
  {
    desc: "item 4: the chain alone returns private destinations",
    input: chainS().join("\n"),
    ip: "10.1.2.3",
    want: {
      masqueraded: false,
      certain: false,
      by: "IP-MASQ-AGENT#2",
      reason: /POSTROUTING is not in the input/,
    },
  },
  {
    desc: "an unread chain before the jump is unknown, with the rest as a condition",
    input: [...chainS(), ...postroutingS()].join("\n"),
    ip: "8.8.8.8",
    want: {
      masqueraded: null,
      certain: false,
      outcomes: [
        "all → unknown POSTROUTING#1",
        "KUBE-POSTROUTING returns it → masq IP-MASQ-AGENT#5",
      ],
    },
  },
  // Real shapes.
  {
    desc: "AWS VPC CNI: SNAT to the node address unless the packet leaves a vlan interface",
    input: AWS_VPC_CNI_NODE,
    ip: "192.168.1.1",
    fields: { mark: 0 },
    want: {
      masqueraded: null,
      outcomes: ["! -o vlan+ → masq AWS-SNAT-CHAIN-0#2", "-o vlan+ → keep IP-MASQ-AGENT#4"],
    },
  },
  {
    desc: "AWS VPC CNI: inside the VPC the agent decides",
    input: AWS_VPC_CNI_NODE,
    ip: "10.0.5.5",
    fields: { mark: 0 },
    want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#2" },
  },
  {
    desc: "AWS VPC CNI: SNAT address is reported",
    input: AWS_VPC_CNI_NODE,
    ip: "198.51.100.9",
    fields: { mark: 0 },
    want: { masqueraded: true, certain: true, toSource: "10.0.3.17" },
  },
  {
    desc: "Calico natOutgoing: depends on the ipsets",
    input: CALICO_NODE,
    ip: "10.1.2.3",
    fields: { mark: 0 },
    want: {
      masqueraded: null,
      outcomes: [
        "-m set --match-set cali40masq-ipam-pools src & ! -m set --match-set cali40all-ipam-pools dst → masq cali-nat-outgoing#1",
        "not all of: -m set --match-set cali40masq-ipam-pools src, ! -m set --match-set cali40all-ipam-pools dst → keep IP-MASQ-AGENT#2",
      ],
    },
  },
  {
    desc: "flannel masquerades its pods before the agent",
    input: FLANNEL_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.244.3.5", mark: 0 },
    want: { masqueraded: true, certain: true, by: "FLANNEL-POSTRTG#5", component: "flannel" },
  },
  {
    desc: "flannel keeps cluster traffic",
    input: FLANNEL_NODE,
    ip: "10.244.7.5",
    fields: { source: "10.244.3.5", mark: 0 },
    // flannel returns it, then the agent's 10.0.0.0/8 RETURN is the last word.
    want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#2", component: "ip-masq-agent" },
  },
  {
    desc: "flannel's older POSTROUTING rules, recognised by shape",
    input: FLANNEL_OLD_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.244.3.5", mark: 0 },
    want: { masqueraded: true, certain: true, by: "POSTROUTING#3", component: "flannel" },
  },
  {
    desc: "Cilium masquerades non-cluster traffic unless it leaves a cilium_ interface",
    input: CILIUM_NODE,
    ip: "10.20.30.40",
    fields: { source: "10.12.4.7", mark: 0 },
    want: {
      masqueraded: null,
      outcomes: ["! -o cilium_+ → masq CILIUM_POST_nat#1", "-o cilium_+ → keep IP-MASQ-AGENT#2"],
    },
  },
  {
    desc: "Docker's bridge rule does not touch pods outside 172.17.0.0/16",
    input: DOCKER_NODE,
    ip: "8.8.8.8",
    fields: { source: "10.244.1.5", mark: 0 },
    want: { masqueraded: true, certain: true, by: "IP-MASQ-AGENT#5" },
  },
  {
    desc: "Docker's bridge rule masquerades containers",
    input: DOCKER_NODE,
    ip: "10.1.2.3",
    fields: { source: "172.17.0.5", mark: 0 },
    want: {
      masqueraded: null,
      outcomes: ["! -o docker0 → masq POSTROUTING#2", "-o docker0 → keep IP-MASQ-AGENT#2"],
    },
  },
  {
    desc: "GKE's stale IP-MASQ chain masquerades 100.64.0.0/10 before the agent keeps it",
    input: GKE_STALE_IP_MASQ_NODE,
    ip: "100.64.1.1",
    fields: { mark: 0 },
    want: { masqueraded: true, certain: true, by: "IP-MASQ#5", component: "ip-masq-agent-old" },
  },
  {
    desc: "portmap's hairpin mark masquerades",
    input: PORTMAP_NODE,
    ip: "10.1.2.3",
    fields: { mark: 0x2000 },
    want: { masqueraded: true, certain: true, by: "CNI-HOSTPORT-MASQ#1", component: "cni-portmap" },
  },
  {
    desc: "OVN-Kubernetes' management-port SNAT depends on the out interface",
    input: OVN_NODE,
    ip: "10.1.2.3",
    fields: { mark: 0 },
    want: {
      masqueraded: null,
      outcomes: [
        "-o ovn-k8s-mp0 → masq OVN-KUBE-SNAT-MGMTPORT#1",
        "! -o ovn-k8s-mp0 → keep IP-MASQ-AGENT#2",
      ],
    },
  },
  {
    desc: "an older agent's chain: per-rule addrtype is taken as true for pod-to-remote traffic",
    input: node(OLD_AGENT_CHAIN),
    ip: "10.1.2.3",
    fields: { mark: 0 },
    want: {
      masqueraded: false,
      certain: true,
      by: "IP-MASQ-AGENT#1",
      component: "ip-masq-agent-old",
    },
  },
  {
    desc: "kube-proxy's MARK then MASQUERADE for marked packets",
    input: node(chainS()),
    ip: "10.1.2.3",
    fields: { mark: 0x4000 },
    want: { masqueraded: true, certain: true, by: "KUBE-POSTROUTING#3", component: "kube-proxy" },
  },
  {
    desc: "a goto chain's RETURN goes back to the caller of the chain that jumped",
    input: natSave(
      ["A", "B", "IP-MASQ-AGENT"],
      [
        "-A POSTROUTING -j A",
        JUMP,
        "-A A -g B",
        "-A A -j MASQUERADE",
        "-A B -j RETURN",
        ...chainS().slice(1),
      ],
    ),
    ip: "10.1.2.3",
    want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#2", reason: /returns it/ },
  },
  {
    desc: "a MARK set on the path is matched later",
    input: natSave(
      ["A", "IP-MASQ-AGENT"],
      [
        "-A POSTROUTING -j MARK --set-xmark 0x10/0x10",
        "-A POSTROUTING -m mark --mark 0x10/0x10 -j A",
        "-A A -j MASQUERADE",
        JUMP,
        ...chainS().slice(1),
      ],
    ),
    ip: "10.1.2.3",
    want: { masqueraded: true, certain: true, by: "A#1" },
  },
  {
    desc: "SNAT in POSTROUTING before the jump",
    input: natSave(
      ["IP-MASQ-AGENT"],
      [
        "-A POSTROUTING -d 192.0.2.0/24 -j SNAT --to-source 203.0.113.5",
        JUMP,
        ...chainS().slice(1),
      ],
    ),
    ip: "192.0.2.44",
    want: { masqueraded: true, certain: true, by: "POSTROUTING#1", toSource: "203.0.113.5" },
  },
  {
    desc: "a loop of chains hits the depth bound and says so",
    input: natSave(["A", "B"], ["-A POSTROUTING -j A", "-A A -j B", "-A B -j A"]),
    ip: "8.8.8.8",
    want: { masqueraded: null, certain: false, reason: /nested deeper than 32/ },
  },
  {
    desc: "DROP in nat is not modelled as a NAT answer",
    input: natSave(
      ["IP-MASQ-AGENT"],
      ["-A POSTROUTING -d 8.8.8.8/32 -j DROP", JUMP, ...chainS().slice(1)],
    ),
    ip: "8.8.8.8",
    want: { masqueraded: null, reason: /DROP/ },
  },
];

/** The answer: masqueraded or not, how certain, and the deciding rule and its component. */
function expectDecision(v: Verdict, want: Want) {
  expect(v.masqueraded).toBe(want.masqueraded);
  if (want.certain !== undefined) expect(v.certain).toBe(want.certain);
  if ("by" in want) expect(ref(v.decidedBy)).toBe(want.by);
  if (want.component) expect(v.decidedBy?.component.id).toBe(want.component);
}

/** The explanation: the branches, why the first one, the reason, the SNAT source. */
function expectExplanation(v: Verdict, want: Want) {
  if (want.outcomes) expect(v.outcomes.map(outcomeLine)).toEqual(want.outcomes);
  if (want.because) expect(v.outcomes[0]?.because).toEqual(want.because);
  if (want.reason) expect(v.reason).toMatch(want.reason);
  if (want.toSource) expect(v.outcomes.map((o) => o.toSource)).toContain(want.toSource);
}

describe("evaluate (the nat path)", () => {
  for (const c of cases) {
    it(c.desc, () => {
      const v = verdict(fromText(c.input), c.ip, c.fields);
      expectDecision(v, c.want);
      expectExplanation(v, c.want);
    });
  }

  it("names what it could not see", () => {
    const v = verdict(fromText([...chainS(), ...postroutingS()].join("\n")), "8.8.8.8");
    expect(v.unknowns).toEqual([
      {
        kind: "unread-chain",
        chain: "KUBE-POSTROUTING",
        message: "KUBE-POSTROUTING is not in the input: what it does to packets is unknown",
      },
    ]);
    const alone = verdict(fromText(chainS().join("\n")), "8.8.8.8");
    expect(alone.unknowns.map((u) => u.kind)).toEqual(["postrouting-missing"]);
  });

  it("treats chains listed as unread as unknown", () => {
    const { ruleset } = parseIptables(ISSUE_ITEM1_NODE);
    const a = analyzeRuleset(ruleset, "ipv4", "IP-MASQ-AGENT", {
      unread: ["CNI-0a1b2c3d4e5f60718293a4b5"],
    });
    const v = verdict(a, "10.20.30.40", { source: "10.100.64.70", mark: 0 });
    expect(v.masqueraded).toBeNull();
    expect(v.outcomes.map(outcomeLine)).toEqual([
      "all → unknown POSTROUTING#2",
      "CNI-0a1b2c3d4e5f60718293a4b5 returns it → keep IP-MASQ-AGENT#2",
    ]);
  });

  it("rejects bad input and family mismatches", () => {
    const a = fromText(ISSUE_ITEM1_NODE);
    expect(evaluate(a, "nope")).toEqual({ error: '"nope" is not an IP address' });
    expect(evaluate(a, "fd00::1")).toEqual({ error: "fd00::1 is ipv6; these rules are ipv4" });
    expect(evaluate(a, "8.8.8.8", { source: "fd00::1" })).toHaveProperty("error");
    expect(evaluate(a, "8.8.8.8", { protocol: "bogus" })).toHaveProperty("error");
    expect(evaluate(a, "8.8.8.8", { protocol: "icmp", dport: 53 })).toHaveProperty("error");
    expect(evaluate(a, "8.8.8.8", { dport: 70000 })).toHaveProperty("error");
  });

  it.each([
    { desc: "127.0.0.1", input: { ip: "127.0.0.1", rules: ISSUE_ITEM1_NODE, family: "ipv4" } },
    {
      desc: "anywhere in 127/8",
      input: { ip: "127.8.9.10", rules: ISSUE_ITEM1_NODE, family: "ipv4" },
    },
    {
      desc: "::1",
      input: {
        ip: "::1",
        rules: [...postroutingS([JUMP]), ...chainS(["fe80::/10"])].join("\n"),
        family: "ipv6",
      },
    },
  ] as const)(
    "refuses a loopback destination ($desc), local on every host, rather than answer as the final MASQUERADE",
    ({ input }) => {
      const got = evaluate(fromText(input.rules, input.family), input.ip);
      expect(got).toEqual({
        error: expect.stringMatching(
          new RegExp(
            `^${input.ip.replaceAll(".", "\\.")} is a loopback address: .* pod traffic to addresses off the node`,
          ),
        ),
      });
    },
  );

  it("evaluates IPv6 (::/0 is every address)", () => {
    const a = analyzeFamily({
      family: "ipv6",
      chain: "IP-MASQ-AGENT",
      chainText: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -d fe80::/10 -j RETURN", masq()].join("\n"),
      postroutingText: postroutingS([JUMP]).join("\n"),
    });
    expect(verdict(a, "fe80::1").masqueraded).toBe(false);
    expect(verdict(a, "2001:db8::1").masqueraded).toBe(true);
  });
});

describe("analyzeRuleset", () => {
  it("reads the upstream chain: returns in order, final MASQUERADE, one exact jump", () => {
    const a = analyzeFamily({
      family: "ipv4",
      chain: "IP-MASQ-AGENT",
      chainText: chainS().join("\n"),
      postroutingText: postroutingS().join("\n"),
    });
    expect(a.returns.map((c) => c.canonical)).toEqual([
      "169.254.0.0/16",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]);
    expect(a.finalMasquerade).toBe(4);
    expect(a.jumps).toHaveLength(1);
    expect(a.jumps[0]).toMatchObject({ exact: true, canonical: true, conditions: [] });
    expect(a.shadows.map((s) => s.effect)).toEqual(["unknown"]);
  });

  it("item 3: a RETURN without -d returns the whole family", () => {
    const a = fromText(chainS([], ["-A IP-MASQ-AGENT -j RETURN", masq()]).join("\n"));
    expect(a.returns.map((c) => c.canonical)).toEqual(["0.0.0.0/0"]);
    expect(a.finalMasquerade).toBe(1);
  });

  it("item 2: a rule that matches nothing returns nothing and is listed as inert", () => {
    const a = fromText(
      node(chainS([], ["-A IP-MASQ-AGENT ! -d 0.0.0.0/0 -j RETURN", masq()]), [
        KUBE_POSTROUTING_JUMP,
        KUBELET_OLD_RULE,
        JUMP,
      ]),
    );
    expect(a.returns).toEqual([]);
    expect(a.inert.map((r) => `${r.chain}#${r.index + 1} ${r.component.id}`)).toEqual([
      "POSTROUTING#2 kubelet",
      "IP-MASQ-AGENT#1 ip-masq-agent",
    ]);
    expect(a.outcomes.some((o) => o.decidedBy?.chain === "POSTROUTING")).toBe(false);
  });

  it("a negated RETURN returns everything else", () => {
    const a = fromText(
      chainS([], ["-A IP-MASQ-AGENT ! -d 128.0.0.0/1 -j RETURN", masq()]).join("\n"),
    );
    expect(a.returns.map((c) => c.canonical)).toEqual(["0.0.0.0/1"]);
  });

  it("lists the chains on the path with their components", () => {
    const a = fromText(ISSUE_ITEM1_NODE);
    expect(a.path.map((p) => `${p.name} ${p.component.id}`)).toEqual([
      "POSTROUTING unknown",
      "KUBE-POSTROUTING kube-proxy",
      "CNI-0a1b2c3d4e5f60718293a4b5 cni-bridge",
      "IP-MASQ-AGENT ip-masq-agent",
    ]);
    expect(a.unknowns).toEqual([]);
    expect(a.postroutingRead).toBe(true);
  });

  it("item 4: without POSTROUTING there is no jump to miss", () => {
    const a = fromText(chainS().join("\n"));
    expect(a.postroutingRead).toBe(false);
    expect(a.unknowns.map((u) => u.kind)).toEqual(["postrouting-missing"]);
  });

  it("says when neither POSTROUTING nor the chain is in the input", () => {
    const a = fromText(
      natSave(["KUBE-POSTROUTING"], KUBE_POSTROUTING).replace(":POSTROUTING ACCEPT [0:0]\n", ""),
    );
    expect(verdict(a, "8.8.8.8").masqueraded).toBeNull();
    expect(a.unknowns.map((u) => u.message)).toEqual([
      "neither POSTROUTING nor IP-MASQ-AGENT is in the input",
    ]);
  });
});
