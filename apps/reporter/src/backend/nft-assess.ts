// A native nftables node judged against the config by the reporter: the shared assessNft (the
// agent's table, the agent's iptables chain left beside it, and other nat chains that NAT what
// the config leaves alone). An apply heals the agent's own table and retires that iptables
// chain, never other components' chains.
import { type AgentFlags, assessNft, type MasqConfig } from "@masq/shared";
import type { ObservedAssessment } from "../assess.js";
import type { NftObserved } from "./types.js";

export function assessNftObserved(
  config: MasqConfig,
  flags: AgentFlags,
  o: NftObserved,
): ObservedAssessment {
  const report = assessNft(config, flags, o.nftables, o.linux).report;
  const healable =
    !o.nftables.readError &&
    report.differences.some((d) => d.severity !== "info" && d.kind !== "masqueraded-after");
  return { report, healable };
}
