// Snapshots of nodes whose rules are their own, as a reporter reads them (`iptables -S` of
// every chain on the POSTROUTING path): the shapes of node-dumps.ts with what real fleets make
// per node — flannel's RETURN/MASQUERADE for the node's own pod /24 (FLANNEL-POSTRTG, or straight
// in POSTROUTING before flannel 0.15), the AWS VPC CNI's `SNAT --to-source <node IP>`, Cilium's
// per-node pod CIDR and host address — beside kube-proxy's KUBE-POSTROUTING and the agent's
// chain, which every node shares. Neutral addresses: node i's pod /24 is 10.(128 + i/256).(i %
// 256).0/24 in the cluster network 10.128.0.0/9, its address 192.168.(i/256).(i % 254 + 1).
import {
  DEFAULT_FLAGS,
  desiredChain,
  type FamilySnapshot,
  jumpRuleLine,
  type MasqConfig,
} from "@masq/shared";
import { KUBE_POSTROUTING, KUBE_POSTROUTING_JUMP } from "./node-dumps.js";

/** The components whose per-node rules a node carries. */
export const OWN_RULE_KINDS = ["flannel", "flannel-old", "aws", "cilium"] as const;
export type OwnRuleKind = (typeof OWN_RULE_KINDS)[number];

/** Node i's own pod /24 and its address (i < 32,768). */
export function nodeAddresses(i: number): { podCidr: string; nodeIp: string } {
  const hi = (i >> 8) & 127;
  const lo = i & 255;
  return { podCidr: `10.${128 + hi}.${lo}.0/24`, nodeIp: `192.168.${hi}.${(lo % 254) + 1}` };
}

const FLANNEL = '-m comment --comment "flanneld masq"';
const CLUSTER = "10.128.0.0/9";

/** flannel ≥ 0.15: its rules in FLANNEL-POSTRTG, the node's pod /24 in three of them. */
function flannelChain(pod: string): string[] {
  return [
    "-N FLANNEL-POSTRTG",
    `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ${FLANNEL} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${pod} -d ${CLUSTER} ${FLANNEL} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${CLUSTER} -d ${pod} ${FLANNEL} -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${CLUSTER} -d ${pod} ${FLANNEL} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${CLUSTER} ! -d 224.0.0.0/4 ${FLANNEL} -j MASQUERADE --random-fully`,
    `-A FLANNEL-POSTRTG ! -s ${CLUSTER} -d ${CLUSTER} ${FLANNEL} -j MASQUERADE --random-fully`,
  ];
}

/** flannel before 0.15: the same rules straight in POSTROUTING, without comments. */
function flannelOldRules(pod: string): string[] {
  return [
    `-A POSTROUTING -s ${CLUSTER} -d ${CLUSTER} -j RETURN`,
    `-A POSTROUTING -s ${CLUSTER} ! -d 224.0.0.0/4 -j MASQUERADE`,
    `-A POSTROUTING ! -s ${CLUSTER} -d ${pod} -j RETURN`,
    `-A POSTROUTING ! -s ${CLUSTER} -d ${CLUSTER} -j MASQUERADE`,
  ];
}

/** The AWS VPC CNI: SNAT to the node's primary address for everything outside the VPC. */
function awsChain(nodeIp: string): string[] {
  return [
    "-N AWS-SNAT-CHAIN-0",
    '-A AWS-SNAT-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN',
    `-A AWS-SNAT-CHAIN-0 ! -o vlan+ -m comment --comment "AWS, SNAT" -m addrtype ! --dst-type LOCAL -j SNAT --to-source ${nodeIp} --random-fully`,
  ];
}

/** Cilium in iptables masquerading mode: the node's pod CIDR and host address. */
function ciliumChain(pod: string, nodeIp: string): string[] {
  return [
    "-N CILIUM_POST_nat",
    `-A CILIUM_POST_nat -s ${pod} ! -d ${CLUSTER} ! -o cilium_+ -m comment --comment "cilium masquerade non-cluster" -j MASQUERADE`,
    '-A CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment "cilium: exclude proxy return traffic" -j ACCEPT',
    `-A CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1" -j SNAT --to-source ${nodeIp}`,
  ];
}

/** The component's chain (name and `-S` lines) and POSTROUTING's rules before kube-proxy's hook. */
function componentOf(kind: OwnRuleKind, i: number): { chain?: string[]; post: string[] } {
  const { podCidr, nodeIp } = nodeAddresses(i);
  switch (kind) {
    case "flannel":
      return {
        chain: flannelChain(podCidr),
        post: [`-A POSTROUTING ${FLANNEL} -j FLANNEL-POSTRTG`],
      };
    case "flannel-old":
      return { post: flannelOldRules(podCidr) };
    case "aws":
      return {
        chain: awsChain(nodeIp),
        post: ['-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0'],
      };
    case "cilium":
      return {
        chain: ciliumChain(podCidr, nodeIp),
        post: [
          '-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat',
        ],
      };
  }
}

/**
 * Node i's IPv4 snapshot after applying `config` (default flags): POSTROUTING, the component's
 * chain, KUBE-POSTROUTING and the agent's chain, in the order the reporter reads them
 * (POSTROUTING, then breadth first).
 */
export function ownRulesSnapshot(kind: OwnRuleKind, i: number, config: MasqConfig): FamilySnapshot {
  const c = componentOf(kind, i);
  const agent = desiredChain(config, DEFAULT_FLAGS, "ipv4");
  const chains: FamilySnapshot["chains"] = [
    {
      name: "POSTROUTING",
      lines: ["-P POSTROUTING ACCEPT", ...c.post, KUBE_POSTROUTING_JUMP, jumpRuleLine(agent.chain)],
    },
  ];
  if (c.chain) chains.push({ name: c.chain[0]!.slice(3), lines: c.chain });
  chains.push(
    { name: "KUBE-POSTROUTING", lines: ["-N KUBE-POSTROUTING", ...KUBE_POSTROUTING] },
    { name: agent.chain, lines: [`-N ${agent.chain}`, ...agent.rules.map((r) => r.line)] },
  );
  return { family: "ipv4", backend: "nf_tables", chains };
}
