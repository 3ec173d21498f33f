// Which component wrote a nat chain or rule, from the names, comments and shapes those
// components use on real nodes. Table-driven; `by` says how sure the guess is (a chain name or
// comment the component always writes, or only the shape of a rule it writes).
import type { Clause, ParsedRule } from "../parser.js";
import { clauseOf } from "../parser.js";
import { LEGACY_NON_MASQ_RULE_COMMENT, POSTROUTING } from "../rules.js";

export type ComponentId =
  | "ip-masq-agent"
  | "ip-masq-agent-old"
  | "kube-proxy"
  | "kubelet"
  | "cni-bridge"
  | "cni-portmap"
  | "cni"
  | "calico"
  | "aws-vpc-cni"
  | "flannel"
  | "cilium"
  | "docker"
  | "ovn-kubernetes"
  | "antrea"
  | "weave"
  | "unknown";

export interface ComponentRef {
  id: ComponentId;
  /** For people: "CNI bridge plugin (ipMasq)". */
  name: string;
  /** What the recognition rests on. */
  by: "chain" | "comment" | "target" | "shape" | "none";
}

const NAMES: Record<ComponentId, string> = {
  "ip-masq-agent": "ip-masq-agent",
  "ip-masq-agent-old": "an older ip-masq-agent",
  "kube-proxy": "kube-proxy",
  kubelet: "kubelet/kubenet (--non-masquerade-cidr)",
  "cni-bridge": "CNI bridge plugin (ipMasq)",
  "cni-portmap": "CNI portmap plugin",
  cni: "a CNI plugin",
  calico: "Calico",
  "aws-vpc-cni": "AWS VPC CNI",
  flannel: "flannel",
  cilium: "Cilium",
  docker: "Docker",
  "ovn-kubernetes": "OVN-Kubernetes",
  antrea: "Antrea",
  weave: "Weave Net",
  unknown: "unknown",
};

function ref(id: ComponentId, by: ComponentRef["by"]): ComponentRef {
  return { id, name: NAMES[id], by };
}

export const UNKNOWN_COMPONENT: ComponentRef = ref("unknown", "none");

/** Chain names, first match wins (the agent's configured chain is checked before these). */
const CHAIN_PATTERNS: readonly [RegExp, ComponentId][] = [
  [/^IP-MASQ-AGENT$/, "ip-masq-agent"],
  // GKE's node startup script (and old agents) kept masquerade rules in IP-MASQ.
  [/^IP-MASQ$/, "ip-masq-agent-old"],
  [/^KUBE-/, "kube-proxy"],
  [/^CNI-(HOSTPORT-|DN-)/, "cni-portmap"],
  // The bridge plugin names its per-container chain CNI- + 24 hex digits of a hash.
  [/^CNI-[0-9a-f]{24}$/, "cni-bridge"],
  [/^CNI-/, "cni"],
  [/^cali-/, "calico"],
  [/^AWS-(SNAT|CONNMARK)-CHAIN-\d+$/, "aws-vpc-cni"],
  [/^FLANNEL-/, "flannel"],
  [/^CILIUM_/, "cilium"],
  [/^DOCKER/, "docker"],
  [/^OVN-KUBE-/, "ovn-kubernetes"],
  [/^ANTREA-/, "antrea"],
  [/^WEAVE/, "weave"],
];

/** Rule comments, first match wins. */
const COMMENT_PATTERNS: readonly [RegExp, ComponentId][] = [
  [/^"?ip-masq-agent: /, "ip-masq-agent"],
  [/^ip-masq: /, "ip-masq-agent-old"],
  [/^kubernetes (postrouting rules|service traffic requiring SNAT)/, "kube-proxy"],
  [/^kubenet: /, "kubelet"],
  [/^name: ".*" id: ".*"$/, "cni-bridge"],
  [/^CNI portfwd/, "cni-portmap"],
  [/^cali:/, "calico"],
  [/^AWS[, ]/, "aws-vpc-cni"],
  [/^flanneld masq/, "flannel"],
  [/^cilium/, "cilium"],
  [/^OVN /, "ovn-kubernetes"],
  [/^Antrea: /, "antrea"],
];

/**
 * nftables table names of components that write their own tables (kube-proxy's nftables mode,
 * flannel's, Calico's, Cilium's, Docker's nftables firewall backend, the agent's).
 */
const NFT_TABLE_PATTERNS: readonly [RegExp, ComponentId][] = [
  [/^ip_masq_agent$/, "ip-masq-agent"],
  [/^kube-proxy$/, "kube-proxy"],
  [/^flannel/, "flannel"],
  [/^calico/, "calico"],
  [/^cilium/, "cilium"],
  [/^docker/, "docker"],
];

/** An nftables chain as the nft analysis names it: "ip kube-proxy masquerading". */
const NFT_CHAIN = /^(ip|ip6|inet|arp|bridge|netdev) (\S+) (.+)$/;

/** The component whose chain this is; the agent's own chain is `agentChain`. */
export function chainComponent(chain: string, agentChain: string): ComponentRef {
  if (chain === agentChain) return ref("ip-masq-agent", "chain");
  for (const [re, id] of CHAIN_PATTERNS) if (re.test(chain)) return ref(id, "chain");
  const nft = NFT_CHAIN.exec(chain);
  if (nft) {
    for (const [re, id] of NFT_TABLE_PATTERNS) if (re.test(nft[2]!)) return ref(id, "chain");
    // iptables-nft's tables seen through nft: the chain names iptables users give.
    return chainComponent(nft[3]!, agentChain);
  }
  return UNKNOWN_COMPONENT;
}

const BRIDGE_INTERFACE = /^(docker0|br-[0-9a-f]{12})$/;

/** Docker's `-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE` (or a user bridge `br-…`). */
function isDockerShape(rule: ParsedRule, s: Clause | undefined, o: Clause | undefined): boolean {
  return (
    rule.target === "MASQUERADE" &&
    !!s &&
    !s.negated &&
    !!o?.negated &&
    BRIDGE_INTERFACE.test(o.args[0] ?? "")
  );
}

/**
 * flannel before FLANNEL-POSTRTG: -s NET -d NET -j RETURN, -s NET ! -d 224.0.0.0/4 -j
 * MASQUERADE, ! -s NET -d SUBNET -j RETURN, ! -s NET -d NET -j MASQUERADE.
 */
function isFlannelShape(rule: ParsedRule, s: Clause, d: Clause): boolean {
  if (rule.target === "MASQUERADE" && !s.negated && d.negated && d.args[0] === "224.0.0.0/4")
    return true;
  if (rule.target !== "RETURN" && rule.target !== "MASQUERADE") return false;
  return !d.negated && (s.args[0] === d.args[0] || s.negated);
}

/** kubelet's --non-masquerade-cidr rule: ! -d CIDR -m addrtype ! --dst-type LOCAL -j MASQUERADE. */
function isKubeletShape(rule: ParsedRule, s: Clause | undefined, d: Clause | undefined): boolean {
  return (
    rule.target === "MASQUERADE" &&
    !!d?.negated &&
    !s &&
    !!clauseOf(rule, "addrtype", "--dst-type")?.negated
  );
}

/** Shapes of rules written straight into POSTROUTING without a comment. */
function shapeComponent(rule: ParsedRule): ComponentId | undefined {
  const s = clauseOf(rule, "", "-s");
  const d = clauseOf(rule, "", "-d");
  if (isDockerShape(rule, s, clauseOf(rule, "", "-o"))) return "docker";
  if (s && d && isFlannelShape(rule, s, d)) return "flannel";
  if (isKubeletShape(rule, s, d)) return "kubelet";
  return undefined;
}

/** A rule of the agent's own chain: by an older agent when it has the older comment or addrtype. */
function agentRuleComponent(rule: ParsedRule, chain: ComponentRef): ComponentRef {
  const old =
    rule.comment === LEGACY_NON_MASQ_RULE_COMMENT ||
    clauseOf(rule, "addrtype", "--dst-type") !== undefined;
  return old ? ref("ip-masq-agent-old", "comment") : chain;
}

/** The component a rule's comment names, if any. */
function commentComponent(rule: ParsedRule): ComponentRef | undefined {
  const comment = rule.comment ?? "";
  for (const [re, id] of COMMENT_PATTERNS) if (re.test(comment)) return ref(id, "comment");
  return undefined;
}

/** The component of the chain a rule jumps to, if recognised. */
function targetComponent(rule: ParsedRule, agentChain: string): ComponentRef | undefined {
  if (rule.target === undefined) return undefined;
  const target = chainComponent(rule.target, agentChain);
  return target.id === "unknown" ? undefined : { ...target, by: "target" };
}

/**
 * The component that wrote a rule: its chain's (when recognised), else its comment's, else the
 * chain it jumps to, else its shape (POSTROUTING only). Agent rules with the older comment or a
 * per-rule addrtype match were written by an older agent.
 */
export function ruleComponent(rule: ParsedRule, agentChain: string): ComponentRef {
  const chain = chainComponent(rule.chain, agentChain);
  if (chain.id === "ip-masq-agent" && rule.chain === agentChain)
    return agentRuleComponent(rule, chain);
  if (chain.id !== "unknown") return chain;
  const found = commentComponent(rule) ?? targetComponent(rule, agentChain);
  if (found) return found;
  const shape = rule.chain === POSTROUTING ? shapeComponent(rule) : undefined;
  return shape ? ref(shape, "shape") : UNKNOWN_COMPONENT;
}
