// nat tables of real kinds of nodes, as iptables-save prints them: the shapes (chain names,
// comment formats, match order) of kube-proxy, the CNI bridge and portmap plugins, Calico,
// the AWS VPC CNI, flannel, Cilium, Docker, OVN-Kubernetes, GKE's stale IP-MASQ chain,
// kubelet's old rule and older agents, with neutral addresses (private and RFC 5737 ranges)
// and comment text written for these tests.
import { JUMP, MASQ, NON_MASQ } from "./iptables-text.js";

/** One iptables-save nat table from the chain declarations and rules. */
export function natSave(chains: readonly string[], rules: readonly string[]): string {
  return [
    "*nat",
    ":POSTROUTING ACCEPT [0:0]",
    ...chains.map((c) => `:${c} - [0:0]`),
    ...rules,
    "COMMIT",
    "",
  ].join("\n");
}

const AGENT_JUMP_UNQUOTED =
  '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT';

export const agentReturn = (cidr: string) => `-A IP-MASQ-AGENT -d ${cidr} ${NON_MASQ} -j RETURN`;
export const AGENT_MASQ = `-A IP-MASQ-AGENT ${MASQ} -j MASQUERADE`;

/** kube-proxy's POSTROUTING hook and chain (iptables mode, 1.2x). */
export const KUBE_POSTROUTING_JUMP =
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING';
export const KUBE_POSTROUTING = [
  "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
  "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
];

/** Issue 11, item 1: kube-proxy, a CNI bridge chain for pods in 10.100.64.64/26, the agent. */
export const ISSUE_ITEM1_NODE = natSave(
  ["CNI-0a1b2c3d4e5f60718293a4b5", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    '-A POSTROUTING -s 10.100.64.64/26 -m comment --comment "name: \\"cbr0\\" id: \\"1111\\"" -j CNI-0a1b2c3d4e5f60718293a4b5',
    AGENT_JUMP_UNQUOTED,
    "-A CNI-0a1b2c3d4e5f60718293a4b5 -d 10.100.64.64/26 -j ACCEPT",
    "-A CNI-0a1b2c3d4e5f60718293a4b5 ! -d 224.0.0.0/4 -j MASQUERADE",
    agentReturn("169.254.0.0/16"),
    agentReturn("10.0.0.0/8"),
    AGENT_MASQ,
    "-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE",
  ],
);

/** Issue 11, item 5: kube-proxy and the agent in iptables-legacy, with --random-fully. */
export const ISSUE_ITEM5_LEGACY_NODE = natSave(
  ["IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    AGENT_JUMP_UNQUOTED,
    agentReturn("169.254.0.0/16"),
    agentReturn("10.0.0.0/8"),
    `${AGENT_MASQ} --random-fully`,
    "-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully",
  ],
);

/** The default agent chain and its jump, after kube-proxy's hook. */
const AGENT = [
  ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(agentReturn),
  `${AGENT_MASQ} --random-fully`,
];

/** AWS VPC CNI: SNAT to the node's primary address for everything outside the VPC, before the agent. */
export const AWS_VPC_CNI_NODE = natSave(
  ["AWS-SNAT-CHAIN-0", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0',
    JUMP,
    '-A AWS-SNAT-CHAIN-0 -d 10.0.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN',
    '-A AWS-SNAT-CHAIN-0 ! -o vlan+ -m comment --comment "AWS, SNAT" -m addrtype ! --dst-type LOCAL -j SNAT --to-source 10.0.3.17 --random-fully',
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** Calico with natOutgoing on its pool: ipset-based MASQUERADE in cali-nat-outgoing. */
export const CALICO_NODE = natSave(
  ["cali-POSTROUTING", "cali-fip-snat", "cali-nat-outgoing", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    '-A POSTROUTING -m comment --comment "cali:Tq8mzsSq0qGc2rH1" -j cali-POSTROUTING',
    KUBE_POSTROUTING_JUMP,
    JUMP,
    '-A cali-POSTROUTING -m comment --comment "cali:cB1i9Wv8ZoPx3yKd" -j cali-fip-snat',
    '-A cali-POSTROUTING -m comment --comment "cali:4dQbN8tRgE2sLmUw" -j cali-nat-outgoing',
    '-A cali-nat-outgoing -m comment --comment "cali:Yh3kPq0XrZ7vNcTe" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** flannel ≥ 0.15: FLANNEL-POSTRTG, cluster network 10.244.0.0/16, this node 10.244.3.0/24. */
export const FLANNEL_NODE = natSave(
  ["FLANNEL-POSTRTG", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    KUBE_POSTROUTING_JUMP,
    JUMP,
    '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG -s 10.244.3.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.3.0/24 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.3.0/24 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** flannel before FLANNEL-POSTRTG: its rules straight in POSTROUTING, no comments. */
export const FLANNEL_OLD_NODE = natSave(
  ["IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    "-A POSTROUTING -s 10.244.0.0/16 -d 10.244.0.0/16 -j RETURN",
    "-A POSTROUTING -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE",
    "-A POSTROUTING ! -s 10.244.0.0/16 -d 10.244.3.0/24 -j RETURN",
    "-A POSTROUTING ! -s 10.244.0.0/16 -d 10.244.0.0/16 -j MASQUERADE",
    JUMP,
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** Cilium in iptables masquerading mode: the feeder, then CILIUM_POST_nat. */
export const CILIUM_NODE = natSave(
  ["CILIUM_POST_nat", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    '-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat',
    KUBE_POSTROUTING_JUMP,
    JUMP,
    '-A CILIUM_POST_nat -s 10.12.4.0/24 ! -d 10.12.0.0/16 ! -o cilium_+ -m comment --comment "cilium masquerade non-cluster" -j MASQUERADE',
    '-A CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment "cilium: exclude proxy return traffic" -j ACCEPT',
    '-A CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1" -j SNAT --to-source 10.12.4.9',
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/**
 * Cilium with kube-proxy replacement and BPF masquerading: no kube-proxy chains, and
 * CILIUM_POST_nat keeps only the rules eBPF does not do (proxy return traffic, the host's
 * 127.0.0.1 SNAT); pod traffic is masqueraded in eBPF, where netfilter does not see it.
 */
export const CILIUM_KPR_NODE = natSave(
  ["CILIUM_POST_nat"],
  [
    '-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat',
    '-A CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment "cilium: exclude proxy return traffic" -j ACCEPT',
    '-A CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1" -j SNAT --to-source 10.12.4.9',
  ],
);

/** Docker's bridge rule next to kube-proxy and the agent. */
export const DOCKER_NODE = natSave(
  ["DOCKER", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
    JUMP,
    "-A DOCKER -i docker0 -j RETURN",
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** GKE: the node startup script's IP-MASQ chain left in place next to the agent's. */
export const GKE_STALE_IP_MASQ_NODE = natSave(
  ["IP-MASQ", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    KUBE_POSTROUTING_JUMP,
    '-A POSTROUTING -m comment --comment "ip-masq: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ',
    JUMP,
    '-A IP-MASQ -d 169.254.0.0/16 -m comment --comment "ip-masq: local traffic is not subject to MASQUERADE" -j RETURN',
    '-A IP-MASQ -d 10.0.0.0/8 -m comment --comment "ip-masq: RFC 1918 reserved range is not subject to MASQUERADE" -j RETURN',
    '-A IP-MASQ -d 172.16.0.0/12 -m comment --comment "ip-masq: RFC 1918 reserved range is not subject to MASQUERADE" -j RETURN',
    '-A IP-MASQ -d 192.168.0.0/16 -m comment --comment "ip-masq: RFC 1918 reserved range is not subject to MASQUERADE" -j RETURN',
    '-A IP-MASQ -m comment --comment "ip-masq: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE',
    ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map(
      agentReturn,
    ),
    `${AGENT_MASQ} --random-fully`,
    ...KUBE_POSTROUTING,
  ],
);

/** kubelet's old --non-masquerade-cidr=0.0.0.0/0 rule, which matches no packet. */
export const KUBELET_OLD_RULE =
  '-A POSTROUTING ! -d 0.0.0.0/0 -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL -j MASQUERADE';

/** The CNI portmap plugin's hairpin masquerade for marked packets. */
export const PORTMAP_NODE = natSave(
  ["CNI-HOSTPORT-MASQ", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
    KUBE_POSTROUTING_JUMP,
    JUMP,
    "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** OVN-Kubernetes' management-port SNAT, limited to its interface. */
export const OVN_NODE = natSave(
  ["OVN-KUBE-SNAT-MGMTPORT", "IP-MASQ-AGENT", "KUBE-POSTROUTING"],
  [
    "-A POSTROUTING -o ovn-k8s-mp0 -j OVN-KUBE-SNAT-MGMTPORT",
    KUBE_POSTROUTING_JUMP,
    JUMP,
    '-A OVN-KUBE-SNAT-MGMTPORT -o ovn-k8s-mp0 -m comment --comment "OVN SNAT to Management Port" -j SNAT --to-source 10.128.0.2',
    ...AGENT,
    ...KUBE_POSTROUTING,
  ],
);

/** An agent chain written by an older agent: legacy comment and addrtype on each rule. */
export const OLD_AGENT_CHAIN = [
  "-N IP-MASQ-AGENT",
  '-A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE" -m addrtype ! --dst-type LOCAL -j RETURN',
  '-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -m addrtype ! --dst-type LOCAL -j MASQUERADE',
];

/**
 * `iptables -S` of every chain on the path of a node whose bridge plugin (newer versions: one
 * POSTROUTING rule per pod address) masquerades each pod, with kube-proxy and the agent.
 */
export function bridgePodsNode(pods: number): string {
  const hash = (i: number) => i.toString(16).padStart(24, "0");
  const post = ["-P POSTROUTING ACCEPT", KUBE_POSTROUTING_JUMP];
  const cni: string[] = [];
  for (let i = 0; i < pods; i++) {
    const ip = `10.244.${(i + 2) >> 8}.${(i + 2) & 255}`;
    const comment = `-m comment --comment "name: \\"cbr0\\" id: \\"${hash(i)}\\""`;
    post.push(`-A POSTROUTING -s ${ip}/32 ${comment} -j CNI-${hash(i)}`);
    cni.push(
      `-N CNI-${hash(i)}`,
      `-A CNI-${hash(i)} -d 10.244.0.0/16 ${comment} -j ACCEPT`,
      `-A CNI-${hash(i)} ! -d 224.0.0.0/4 ${comment} -j MASQUERADE`,
    );
  }
  post.push(JUMP);
  return [
    ...post,
    "-N KUBE-POSTROUTING",
    ...KUBE_POSTROUTING,
    ...cni,
    "-N IP-MASQ-AGENT",
    ...AGENT,
  ].join("\n");
}
