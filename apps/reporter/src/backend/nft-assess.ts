// A native nftables node judged against the config by the reporter: the shared assessNft (the
// agent's table, and other nat chains that NAT what the config leaves alone) and, beside it,
// the agent's iptables chain if one is still there (upstream's, or the one a migration retires):
// it acts on the same packets, and the next apply removes it. An apply heals the agent's own
// table and that chain, never other components' chains.
import {
  type AgentFlags,
  assessNft,
  BACKEND_LABELS,
  chainLines,
  type Difference,
  driftReport,
  type MasqConfig,
} from "@masq/shared";
import type { ObservedAssessment } from "../assess.js";
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
  const nft = assessNft(config, flags, o.nftables).differences;
  const differences = [...nft, ...leftoverChains(o, flags.masqChain)];
  const healable =
    !o.nftables.readError &&
    differences.some((d) => d.severity !== "info" && d.kind !== "masqueraded-after");
  return { report: driftReport(differences), healable };
}
