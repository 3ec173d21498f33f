// Translation that no netfilter rule shows. Cilium's eBPF datapath masquerades pod traffic in its
// own programs when BPF masquerading is on (cilium-config `enable-bpf-masquerade`, usual with
// kube-proxy replacement; Cilium docs, "Masquerading"), before or instead of any nat rule. Its
// CILIUM_* chains on a node say Cilium runs there; the setting itself lives in the cluster's
// cilium-config, not on the node's rules. In iptables masquerading mode Cilium installs its own
// MASQUERADE rule in CILIUM_POST_nat; without one, pod traffic may be masqueraded in eBPF, so an
// answer read from the rules is not certain, and says why.
import type { Verdict } from "../analysis/evaluate.js";
import type { Unknown } from "./types.js";

/** Chains Cilium installs in the nat table (iptables) or its own nftables tables. */
const CILIUM_CHAIN = /^(CILIUM_|cilium)/;

/** A nat chain as this check needs it: its name and whether any of its rules masquerades. */
export interface NatChainShape {
  name: string;
  masquerades: boolean;
}

/**
 * The unknown a node running Cilium without iptables masquerading adds to every answer;
 * undefined without Cilium's chains, or with Cilium's own MASQUERADE rule (iptables mode).
 */
export function outsideNetfilter(chains: Iterable<NatChainShape>): Unknown | undefined {
  const cilium = [...chains].filter((c) => CILIUM_CHAIN.test(c.name));
  const name = cilium[0]?.name;
  if (name === undefined || cilium.some((c) => c.masquerades)) return undefined;
  return {
    kind: "outside-netfilter",
    chain: name,
    message: `Cilium runs on this node (chain ${name}) without a masquerade rule of its own: with its BPF masquerading (cilium-config enable-bpf-masquerade) it translates pod traffic in eBPF, which no nat rule shows`,
  };
}

/** `v` made uncertain by `u` (the rules' answer stays, with the reason it may not hold). */
export function uncertainBy<V extends Verdict>(v: V, u: Unknown | undefined): V {
  if (!u || v.unknowns.some((x) => x.message === u.message)) return v;
  return {
    ...v,
    certain: false,
    reason: `${v.reason} But ${u.message}.`,
    unknowns: [u, ...v.unknowns],
    caveats: [u.message, ...v.caveats],
  };
}
