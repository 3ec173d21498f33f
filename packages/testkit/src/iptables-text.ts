// iptables -S text as iptables v1.8.9 prints the chain upstream (and we) apply; used by tests.
export const NON_MASQ =
  '-m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE"';
export const MASQ =
  '-m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)"';
export const JUMP =
  '-A POSTROUTING -m comment --comment "\\"ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain\\"" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT';

export const EXC_MASQ =
  '-m comment --comment "ip-masq-agent: masqueradeCIDRs traffic is subject to MASQUERADE"';

export const ret = (cidr: string) => `-A IP-MASQ-AGENT -d ${cidr} ${NON_MASQ} -j RETURN`;
export const masq = (opts = " --random-fully") => `-A IP-MASQ-AGENT ${MASQ} -j MASQUERADE${opts}`;

/** A masqueradeCIDRs exception's MASQUERADE as `iptables -S` prints it. */
export const excMasq = (cidr: string, opts = " --random-fully") =>
  `-A IP-MASQ-AGENT -d ${cidr} ${EXC_MASQ} -j MASQUERADE${opts}`;

/** `iptables -S IP-MASQ-AGENT` after applying the default config. */
export function chainS(
  cidrs = ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
  tail = [masq()],
): string[] {
  return ["-N IP-MASQ-AGENT", ...cidrs.map(ret), ...tail];
}

/** `iptables -S POSTROUTING` with kube-proxy's rule first and the agent's jump. */
export function postroutingS(
  rules = [
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    JUMP,
  ],
): string[] {
  return ["-P POSTROUTING ACCEPT", ...rules];
}
