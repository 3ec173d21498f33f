// A native nftables node judged against the config by the reporter: the agent's own table
// (nft-own.ts) and, beside it, the agent's iptables chain if one is still there (upstream's, or
// the one a migration retires): it acts on the same packets, and the next apply removes it.
// Other tables on the nat postrouting hook (kube-proxy's…) are judged by the shared nftables
// analysis the dashboard runs; here they are neither healed nor counted.
import {
  type AgentFlags,
  BACKEND_LABELS,
  chainLines,
  type Difference,
  driftReport,
  type MasqConfig,
} from "@masq/shared";
import type { ObservedAssessment } from "../assess.js";
import { ownTableDifferences } from "./nft-own.js";
import type { NftObserved } from "./types.js";

/** The agent's iptables chain next to its nftables table, per family and iptables backend. */
export function leftoverChains(o: NftObserved, chain: string): Difference[] {
  return o.linux
    .filter((s) => chainLines(s, chain) != null)
    .map((s) => ({
      kind: "backend-conflict",
      severity: "warning",
      scope: s.family,
      message: `${chain} still exists in ${BACKEND_LABELS[s.backend]} (${s.family}) beside the agent's nftables table`,
      impact: "both act on the same packets; the next apply removes the iptables chain",
    }));
}

export function assessNftObserved(
  config: MasqConfig,
  flags: AgentFlags,
  o: NftObserved,
): ObservedAssessment {
  if (o.nftables.readError) {
    const unreadable: Difference = {
      kind: "unreadable",
      severity: "critical",
      scope: "ipv4",
      message: `the nftables ruleset could not be read: ${o.nftables.readError}`,
    };
    return { report: driftReport([unreadable]), healable: false };
  }
  const differences = [
    ...ownTableDifferences(config, flags, o.nftables.ruleset),
    ...leftoverChains(o, flags.masqChain),
  ];
  return {
    report: driftReport(differences),
    healable: differences.some((d) => d.severity !== "info"),
  };
}
