// iptables' nat POSTROUTING on a node whose agent runs on nftables: iptable_nat (legacy or
// nft-compat) registers its hook at NF_IP_PRI_NAT_SRC = 100, the same srcnat priority as the
// agent's base chain, so it is one more chain in the fold (evaluate.ts), read from the iptables
// family snapshots (their xt arguments intact, unlike through `nft -j`).
import { analyzeSnapshot, BACKEND_LABELS } from "../assess.js";
import type { Difference } from "../drift.js";
import type { FamilySnapshot } from "../protocol.js";
import { chainLines } from "../snapshot.js";
import type { NftFamilyAnalysis, NftHook } from "./analysis.js";
import { NFT_CHAIN_PRIORITY } from "./names.js";

/** iptables' nat POSTROUTING of one backend and family, as a hook of the fold. */
export function iptablesNatHook(s: FamilySnapshot, agentChain: string): NftHook {
  return {
    ref: `${BACKEND_LABELS[s.backend]} nat POSTROUTING`,
    priority: NFT_CHAIN_PRIORITY,
    agent: false,
    backend: s.backend,
    analysis: analyzeSnapshot(s, agentChain),
  };
}

const holdsRules = (s: FamilySnapshot) =>
  s.chains.some((c) => (c.lines ?? []).some((l) => l.startsWith("-A ")));

/** The family's nft hooks and every iptables backend holding nat rules, in priority order. */
export function withIptablesHooks(
  fa: NftFamilyAnalysis,
  snaps: readonly FamilySnapshot[],
  agentChain: string,
): NftFamilyAnalysis {
  const extra = snaps
    .filter((s) => s.family === fa.family && holdsRules(s))
    .map((s) => iptablesNatHook(s, agentChain));
  if (extra.length === 0) return fa;
  // Stable: equal priorities keep nft's chains first, the order being unknown either way.
  const hooks = [...fa.hooks, ...extra].sort((a, b) => a.priority - b.priority);
  return { ...fa, hooks };
}

/** The agent's iptables chain still there beside its nftables table (upstream's, or retired). */
export function leftoverAgentChains(
  snaps: readonly FamilySnapshot[],
  agentChain: string,
): Difference[] {
  return snaps
    .filter((s) => chainLines(s, agentChain) != null)
    .map((s) => ({
      kind: "backend-conflict",
      severity: "warning",
      scope: s.family,
      message: `${agentChain} still exists in ${BACKEND_LABELS[s.backend]} (${s.family}) beside the agent's nftables table`,
      impact: "both act on the same packets; the next apply removes the iptables chain",
      removedByApply: true,
    }));
}
