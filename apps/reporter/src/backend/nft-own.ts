// The agent's own nftables table in a read, judged by the shared nftables drift (nftTableDrift,
// planNftApply): whether an apply must write, what it must delete, and whether a read-back is
// verified. Kept here: the table's raw JSON objects, which a failed apply writes back as they
// were (nft-write.ts).
import {
  type AgentFlags,
  type MasqConfig,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
  type NftApplyPlan,
  nftTableDrift,
  parseNftJson,
  planNftApply,
} from "@masq/shared";

export interface OwnObjects {
  table: boolean;
  sets: Record<string, unknown>[];
  maps: Record<string, unknown>[];
  chains: Record<string, unknown>[];
  rules: Record<string, unknown>[];
}

/** The agent table's objects of a ruleset (`nftables` array entries), as nft listed them. */
export function ownObjects(ruleset: readonly unknown[]): OwnObjects {
  const own: OwnObjects = { table: false, sets: [], maps: [], chains: [], rules: [] };
  for (const entry of ruleset) {
    const [kind, v] = Object.entries(entry as object)[0] ?? [];
    const o = v as Record<string, unknown> | undefined;
    if (!o || o.family !== NFT_TABLE_FAMILY) continue;
    if (kind === "table") own.table ||= o.name === NFT_TABLE;
    else if (o.table !== NFT_TABLE) continue;
    else if (kind === "set" || kind === "map" || kind === "chain" || kind === "rule")
      own[`${kind}s`].push(o);
  }
  return own;
}

/** Every difference of the agent's table from the desired one, as one line each. */
export function ownTableDifferences(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
) {
  return nftTableDrift(config, flags, parseNftJson(ruleset));
}

/** What makes a read-back unverified: differences that change behaviour (not cosmetic ones). */
export function ownTableProblems(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
): string[] {
  return ownTableDifferences(config, flags, ruleset)
    .filter((d) => d.severity !== "info")
    .map((d) => d.message);
}

/** An apply must write: the table differs in anything, cosmetic included. */
export function ownTableNeedsWrite(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
): boolean {
  return ownTableDifferences(config, flags, ruleset).length > 0;
}

/** The shared apply plan for the table as read. */
export function planFor(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
): NftApplyPlan {
  return planNftApply(config, flags, parseNftJson(ruleset));
}
