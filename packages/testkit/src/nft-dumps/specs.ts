// The scripts behind the `nft -j list ruleset` fixtures (generate.ts loads each into a fresh
// network namespace and dumps it). Written for these tests after the components' own code:
// kube-proxy's nftables mode (pkg/proxy/nftables: table `ip kube-proxy`, `nat-postrouting` at
// priority 100 jumping to `masquerading`, which masquerades packets carrying mark 0x4000),
// flannel's nftables mode (a table per family with a nat postrouting chain holding the rules of
// its iptables mode), iptables-nft's `ip nat` table, and the agent's own table.
import { DEFAULT_FLAGS, defaultConfig, renderNftApply } from "@masq/shared";
import { AWS_VPC_CNI_NODE, CILIUM_KPR_NODE } from "../node-dumps.js";

export type NftDumpStep = { kind: "nft" | "iptables-nft"; text: string };
export interface NftDumpSpec {
  name: string;
  /** What the fixture stands for. */
  about: string;
  steps: NftDumpStep[];
}

const nft = (text: string): NftDumpStep => ({ kind: "nft", text });
const T = "inet ip_masq_agent";

const AGENT = renderNftApply(defaultConfig(), DEFAULT_FLAGS);
const AGENT_V6_PORTS = renderNftApply(
  { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"] },
  { ...DEFAULT_FLAGS, enableIPv6: true, randomFully: false, toPorts: "1024-29999,32768-65535" },
);

/** Elements that are ranges and single addresses (merged blocks), IPv6 ranges, one port. */
export const RANGES_CONFIG = {
  ...defaultConfig(),
  nonMasqueradeCIDRs: [
    "2001:db8::/127",
    "2001:db8::2/128",
    "192.0.2.7/32",
    "198.51.100.0/25",
    "198.51.100.128/26",
  ],
};
export const RANGES_FLAGS = { ...DEFAULT_FLAGS, enableIPv6: true, toPorts: "5000" };
const AGENT_RANGES = renderNftApply(RANGES_CONFIG, RANGES_FLAGS);

/** kube-proxy nftables mode, IPv4: pods 10.100.0.0/16, services 10.96.0.0/16, node 192.0.2.10. */
export const KUBE_PROXY_TABLE = `
add table ip kube-proxy { comment "rules for kube-proxy" ; }
add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy services
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add chain ip kube-proxy service-3QHXZ6KD-default/web/tcp/http
add chain ip kube-proxy endpoint-6RFAQ2LM-default/web/tcp/http__10.100.1.5/8080
add chain ip kube-proxy endpoint-TY4VKJ2P-default/web/tcp/http__10.100.2.7/8080
add rule ip kube-proxy service-3QHXZ6KD-default/web/tcp/http ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.100.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-3QHXZ6KD-default/web/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-6RFAQ2LM-default/web/tcp/http__10.100.1.5/8080 , 1 : goto endpoint-TY4VKJ2P-default/web/tcp/http__10.100.2.7/8080 }
add rule ip kube-proxy endpoint-6RFAQ2LM-default/web/tcp/http__10.100.1.5/8080 ip saddr 10.100.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-6RFAQ2LM-default/web/tcp/http__10.100.1.5/8080 meta l4proto tcp dnat to 10.100.1.5:8080
add rule ip kube-proxy endpoint-TY4VKJ2P-default/web/tcp/http__10.100.2.7/8080 ip saddr 10.100.2.7 jump mark-for-masquerade
add rule ip kube-proxy endpoint-TY4VKJ2P-default/web/tcp/http__10.100.2.7/8080 meta l4proto tcp dnat to 10.100.2.7:8080
add element ip kube-proxy cluster-ips { 10.96.0.20 }
add element ip kube-proxy nodeport-ips { 192.0.2.10 }
add element ip kube-proxy service-ips { 10.96.0.20 . tcp . 80 : goto service-3QHXZ6KD-default/web/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30080 : goto service-3QHXZ6KD-default/web/tcp/http }
`;

/**
 * kube-proxy nftables mode, IPv6 half of a dual-stack node (its own `ip6 kube-proxy` table):
 * the nat postrouting path (the service maps are as in the IPv4 table).
 */
export const KUBE_PROXY_TABLE_IPV6 = `
add table ip6 kube-proxy { comment "rules for kube-proxy" ; }
add chain ip6 kube-proxy mark-for-masquerade
add chain ip6 kube-proxy masquerading
add chain ip6 kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add rule ip6 kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip6 kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip6 kube-proxy masquerading mark set mark xor 0x4000
add rule ip6 kube-proxy masquerading masquerade fully-random
add rule ip6 kube-proxy nat-postrouting jump masquerading
`;

/**
 * Docker's nftables firewall backend (`--firewall-backend=nftables`, moby's nftablesdoc): table
 * `ip docker-bridges`, `nat-POSTROUTING` at srcnat dispatching by interface through verdict
 * maps to a chain per bridge, which masquerades the bridge's subnet leaving by another interface.
 */
export const DOCKER_TABLE = `
add table ip docker-bridges
add map ip docker-bridges nat-postrouting-in-jumps { type ifname : verdict ; }
add map ip docker-bridges nat-postrouting-out-jumps { type ifname : verdict ; }
add chain ip docker-bridges nat-POSTROUTING { type nat hook postrouting priority srcnat ; policy accept ; }
add chain ip docker-bridges nat-postrouting-in__docker0
add chain ip docker-bridges nat-postrouting-out__docker0
add rule ip docker-bridges nat-POSTROUTING iifname vmap @nat-postrouting-out-jumps
add rule ip docker-bridges nat-POSTROUTING oifname vmap @nat-postrouting-in-jumps
add rule ip docker-bridges nat-postrouting-out__docker0 oifname != "docker0" ip saddr 172.17.0.0/16 counter masquerade comment "MASQUERADE"
add element ip docker-bridges nat-postrouting-in-jumps { "docker0" : jump nat-postrouting-in__docker0 }
add element ip docker-bridges nat-postrouting-out-jumps { "docker0" : jump nat-postrouting-out__docker0 }
`;

/** flannel's nftables mode with --ip-masq: pods 10.100.0.0/16, this node's 10.100.1.0/24. */
export const FLANNEL_TABLE = `
add table ip flannel-ipv4
add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority srcnat ; }
add rule ip flannel-ipv4 postrtg meta mark 0x4000 return comment "kube-proxy will masquerade it"
add rule ip flannel-ipv4 postrtg ip saddr 10.100.0.0/16 ip daddr 10.100.0.0/16 return comment "pod to pod"
add rule ip flannel-ipv4 postrtg ip saddr 10.100.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random comment "pod to outside"
add rule ip flannel-ipv4 postrtg ip saddr != 10.100.0.0/16 ip daddr 10.100.1.0/24 return
add rule ip flannel-ipv4 postrtg ip saddr != 10.100.0.0/16 ip daddr 10.100.0.0/16 masquerade fully-random
`;

/**
 * Calico (Felix) in nftables mode: its own `ip calico` table, chains named after its iptables
 * chains with the table as prefix (`nat-cali-nat-outgoing`), the IPAM pools as interval sets;
 * natOutgoing on the pool masquerades pod traffic to anything outside every pool (Felix's
 * `cali-nat-outgoing`: source in a masquerading pool, destination in no pool). Pool
 * 10.244.0.0/16, node 192.0.2.21.
 */
export const CALICO_TABLE = `
add table ip calico
add set ip calico cali40all-ipam-pools { type ipv4_addr ; flags interval ; }
add set ip calico cali40masq-ipam-pools { type ipv4_addr ; flags interval ; }
add set ip calico cali40this-host { type ipv4_addr ; }
add chain ip calico nat-POSTROUTING { type nat hook postrouting priority srcnat ; policy accept ; }
add chain ip calico nat-cali-POSTROUTING
add chain ip calico nat-cali-fip-snat
add chain ip calico nat-cali-nat-outgoing
add rule ip calico nat-POSTROUTING counter jump nat-cali-POSTROUTING
add rule ip calico nat-cali-POSTROUTING counter jump nat-cali-fip-snat
add rule ip calico nat-cali-POSTROUTING counter jump nat-cali-nat-outgoing
add rule ip calico nat-cali-nat-outgoing ip saddr @cali40masq-ipam-pools ip daddr != @cali40all-ipam-pools counter masquerade fully-random
add element ip calico cali40all-ipam-pools { 10.244.0.0/16 }
add element ip calico cali40masq-ipam-pools { 10.244.0.0/16 }
add element ip calico cali40this-host { 127.0.0.1, 192.0.2.21 }
`;

export const NFT_DUMP_SPECS: NftDumpSpec[] = [
  { name: "agent-default", about: "the agent's table for the default config", steps: [nft(AGENT)] },
  {
    name: "agent-ipv6-ports",
    about: "--enable-ipv6, --random-fully=false, --to-ports 1024-29999,32768-65535",
    steps: [nft(AGENT_V6_PORTS)],
  },
  {
    name: "agent-ranges",
    about: "elements nft keeps as ranges and single addresses, IPv6 ranges, --to-ports of one port",
    steps: [nft(AGENT_RANGES)],
  },
  {
    name: "agent-hand-edit",
    about: "hand edits: 10.0.0.0/8 deleted, 198.51.100.0/24 added, an accept rule inserted first",
    steps: [
      nft(AGENT),
      nft(
        [
          `delete element ${T} nonmasq_v4 { 10.0.0.0/8 }`,
          `add element ${T} nonmasq_v4 { 198.51.100.0/24 }`,
          `insert rule ${T} postrouting ip saddr 10.100.64.0/18 accept`,
        ].join("\n"),
      ),
    ],
  },
  {
    name: "agent-not-understood",
    about: "a rule rewriting the TCP MSS option, a statement the analysis does not model",
    steps: [nft(AGENT), nft(`insert rule ${T} postrouting tcp option maxseg size set 1360`)],
  },
  {
    name: "kube-proxy-agent",
    about: "kube-proxy in nftables mode and the agent's table",
    steps: [nft(KUBE_PROXY_TABLE), nft(AGENT)],
  },
  {
    name: "kube-proxy-dual-stack-agent",
    about: "kube-proxy in nftables mode for both families, and the agent with --enable-ipv6",
    steps: [nft(KUBE_PROXY_TABLE), nft(KUBE_PROXY_TABLE_IPV6), nft(AGENT_V6_PORTS)],
  },
  {
    name: "flannel-kube-proxy-agent",
    about: "flannel (nftables mode, --ip-masq), kube-proxy in nftables mode and the agent",
    steps: [nft(KUBE_PROXY_TABLE), nft(FLANNEL_TABLE), nft(AGENT)],
  },
  {
    name: "docker-agent",
    about: "Docker's nftables backend (default bridge) and the agent",
    steps: [nft(DOCKER_TABLE), nft(AGENT)],
  },
  {
    name: "calico-agent",
    about: "Calico in nftables mode (natOutgoing on its pool) and the agent",
    steps: [nft(CALICO_TABLE), nft(AGENT)],
  },
  {
    name: "cilium-kpr-agent",
    about:
      "Cilium with kube-proxy replacement and BPF masquerading (its few nat rules, in iptables-nft's ip nat) and the agent",
    steps: [{ kind: "iptables-nft", text: CILIUM_KPR_NODE }, nft(AGENT)],
  },
  {
    name: "iptables-nft-aws-agent",
    about:
      "iptables-nft's ip nat table seen through nft: kube-proxy, the AWS VPC CNI, upstream's agent chain",
    steps: [{ kind: "iptables-nft", text: AWS_VPC_CNI_NODE }],
  },
];
