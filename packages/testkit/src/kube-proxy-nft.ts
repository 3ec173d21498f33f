// kube-proxy's nftables mode as it writes its tables (pkg/proxy/nftables/proxier.go, 1.31+):
// `table ip kube-proxy` with the nat base chains, `masquerading` behind nat-postrouting (the
// 0x4000 mark, then `masquerade fully-random`), the `service-ips` verdict map and one service
// chain plus one endpoint chain per endpoint. An `nft -f` script for a real namespace, for
// benchmarks and tests of a big nftables node. Addresses: services in 172.30.0.0/16, pods in
// 10.180.0.0/14 (private ranges).

/** kube-proxy names chains `service-<8 base32 of a hash>-ns/name/proto/pPORT`; a stable stand-in. */
function hash8(text: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  let out = "";
  for (let i = 0; i < 8; i++) {
    out += alphabet[h & 31];
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return out;
}

const ip4 = (base: number, n: number) =>
  [
    (base >>> 24) & 255,
    (base >>> 16) & 255,
    ((base >>> 8) & 255) + ((n >>> 8) & 255),
    n & 255,
  ].join(".");

/** The fixed part: the table, its base chains, the masquerading chain, sets and maps. */
function kubeProxyBase(serviceCidr: string): string[] {
  const t = "ip kube-proxy";
  return [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add chain ${t} mark-for-masquerade`,
    `add rule ${t} mark-for-masquerade mark set mark or 0x4000`,
    `add chain ${t} masquerading`,
    `add rule ${t} masquerading mark and 0x4000 == 0 return`,
    `add rule ${t} masquerading mark set mark xor 0x4000`,
    `add rule ${t} masquerading masquerade fully-random`,
    `add chain ${t} services`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add rule ${t} nat-prerouting jump services`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add rule ${t} nat-output jump services`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add rule ${t} nat-postrouting jump masquerading`,
    `add set ${t} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add map ${t} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${t} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add rule ${t} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${t} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
    `add chain ${t} cluster-ips-check { type filter hook forward priority -110 ; }`,
    `add rule ${t} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    `add rule ${t} cluster-ips-check ip daddr { ${serviceCidr} } drop comment "Drop traffic to unallocated ClusterIPs"`,
  ];
}

/** One service (ClusterIP, TCP) with `endpoints` endpoints: its chains, rules and map element. */
function kubeProxyService(i: number, endpoints: number, clusterCidr: string): string[] {
  const t = "ip kube-proxy";
  const ns = `ns${i % 50}`;
  const svc = `${ns}/svc${i}/tcp/p80`;
  const chain = `service-${hash8(svc)}-${svc}`;
  const vip = ip4(0xac1e0000, i + 1);
  const out = [
    `add chain ${t} ${chain}`,
    `add rule ${t} ${chain} ip daddr ${vip} tcp dport 80 ip saddr != ${clusterCidr} jump mark-for-masquerade`,
  ];
  const picks: string[] = [];
  for (let e = 0; e < endpoints; e++) {
    const pod = ip4(0x0ab40000, ((i * endpoints + e) % 65_000) + 1);
    const ep = `endpoint-${hash8(`${svc}${pod}`)}-${svc}__${pod}/8080`;
    out.push(
      `add chain ${t} ${ep}`,
      `add rule ${t} ${ep} ip saddr ${pod} jump mark-for-masquerade`,
      `add rule ${t} ${ep} meta l4proto tcp dnat to ${pod}:8080`,
    );
    picks.push(`${e} : goto ${ep}`);
  }
  out.push(
    `add rule ${t} ${chain} numgen random mod ${endpoints} vmap { ${picks.join(" , ")} }`,
    `add element ${t} cluster-ips { ${vip} }`,
    `add element ${t} service-ips { ${vip} . tcp . 80 : goto ${chain} }`,
  );
  return out;
}

export interface KubeProxyNftOptions {
  /** Endpoints per service (default 3). */
  endpoints?: number;
  /** kube-proxy's --cluster-cidr (default 10.180.0.0/14). */
  clusterCidr?: string;
  serviceCidr?: string;
}

/**
 * The `nft -f` script of kube-proxy's IPv4 table with `services` ClusterIP services (up to
 * 65,000): 1 + 2 × endpoints chains and 2 + 2 × endpoints rules per service.
 */
export function kubeProxyNftScript(services: number, opts: KubeProxyNftOptions = {}): string {
  if (services > 65_000) throw new Error("at most 65,000 services (one /16 of ClusterIPs)");
  const endpoints = opts.endpoints ?? 3;
  const cluster = opts.clusterCidr ?? "10.180.0.0/14";
  const lines = kubeProxyBase(opts.serviceCidr ?? "172.30.0.0/16");
  for (let i = 0; i < services; i++) lines.push(...kubeProxyService(i, endpoints, cluster));
  return `${lines.join("\n")}\n`;
}
