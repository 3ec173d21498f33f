// A kube-proxy-style nat table (iptables mode): the shape of a big node, for benchmarks that
// load it into a real namespace (iptables-restore) or parse it. Chain names are unique.
// Optionally with the CNI bridge plugin's per-pod masquerade chains in POSTROUTING.

export interface CniPod {
  /** The pod's address (the POSTROUTING rule matches it as `-s IP/32`). */
  ip: string;
  /** The bridge's subnet, which the pod reaches unmasqueraded. */
  subnet: string;
  /** Container id in the rule comments; the chain name is derived from it. */
  id: string;
}

/** CNI-<24 hex> as the bridge plugin names the chain of one pod (a stable stand-in for its hash). */
export function cniChainName(id: string): string {
  let h = 0x811c9dc5;
  let out = "";
  for (let round = 0; out.length < 24; round++) {
    for (const ch of `${round}:${id}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return `CNI-${out.slice(0, 24)}`;
}

/**
 * The bridge plugin's ipMasq rules for some pods: a POSTROUTING rule per pod sends its traffic
 * to the pod's chain, which accepts the bridge subnet and masquerades the rest (not multicast).
 */
export function cniBridgeRules(
  pods: readonly CniPod[],
  network = "cbr0",
): { chains: string[]; rules: string[] } {
  const chains: string[] = [];
  const rules: string[] = [];
  for (const p of pods) {
    const chain = cniChainName(p.id);
    const comment = `-m comment --comment "name: \\"${network}\\" id: \\"${p.id}\\""`;
    chains.push(`:${chain} - [0:0]`);
    rules.push(
      `-A POSTROUTING -s ${p.ip}/32 ${comment} -j ${chain}`,
      `-A ${chain} -d ${p.subnet} ${comment} -j ACCEPT`,
      `-A ${chain} ! -d 224.0.0.0/4 ${comment} -j MASQUERADE`,
    );
  }
  return { chains, rules };
}

/** 10 rules per service: 1 in KUBE-SERVICES, 3 endpoint picks, 3 × (mark + DNAT); then the CNI pods. */
export function kubeNatTable(rules: number, opts: { cniPods?: readonly CniPod[] } = {}): string {
  const out = [
    "*nat",
    ":KUBE-SERVICES - [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
    ":KUBE-MARK-MASQ - [0:0]",
  ];
  const body: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const name = (kind: string, n: number) =>
    `KUBE-${kind}-${n.toString(36).toUpperCase().padStart(16, "0")}`;
  for (let svc = 0; body.length < rules; svc++) {
    const ip = `10.${96 + ((svc >> 16) & 31)}.${(svc >> 8) & 255}.${svc & 255}`;
    const svcChain = name("SVC", svc);
    out.push(`:${svcChain} - [0:0]`);
    body.push(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "ns-${svc % 50}/svc-${svc}:http cluster IP" -m tcp --dport 80 -j ${svcChain}`,
    );
    for (let e = 0; e < 3; e++) {
      const sep = name("SEP", svc * 3 + e);
      const podIp = `10.${128 + ((svc >> 14) & 63)}.${(svc >> 6) & 255}.${((svc & 63) << 2) | e}`;
      const prob =
        e === 0
          ? " -m statistic --mode random --probability 0.33333333349"
          : e === 1
            ? " -m statistic --mode random --probability 0.50000000000"
            : "";
      out.push(`:${sep} - [0:0]`);
      body.push(
        `-A ${svcChain} -m comment --comment "ns-${svc % 50}/svc-${svc}:http -> ${podIp}:8080"${prob} -j ${sep}`,
      );
      body.push(
        `-A ${sep} -s ${podIp}/32 -m comment --comment "ns-${svc % 50}/svc-${svc}:http" -j KUBE-MARK-MASQ`,
      );
      body.push(
        `-A ${sep} -p tcp -m comment --comment "ns-${svc % 50}/svc-${svc}:http" -m tcp -j DNAT --to-destination ${podIp}:8080`,
      );
    }
  }
  const cni = cniBridgeRules(opts.cniPods ?? []);
  return [...out, ...cni.chains, ...body, ...cni.rules, "COMMIT", ""].join("\n");
}
