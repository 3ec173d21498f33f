// The config entry behind a rule of the agent's chain, for `why` and the node page: which list
// (nonMasqueradeCIDRs, masqueradeCIDRs, link-local) and which CIDR decided a destination. Read
// from the rule itself (a RETURN is a non-masquerade entry, a MASQUERADE with a destination a
// masqueradeCIDRs exception, the one without the final MASQUERADE), so it also answers for a
// dump read without the config. Only rules the agent wrote (its comment, or an older agent's)
// stand for an entry: a hand-added `-d X -j RETURN` is no config entry. With the config at hand,
// `entryInConfig` tells whether the config really lists it.
import { parseCidr } from "../cidr.js";
import type { MasqConfig } from "../config.js";
import type { DecisionList } from "../masquerade-decision.js";
import { LINK_LOCAL_CIDR, LINK_LOCAL_CIDR_IPV6 } from "../masquerade-decision.js";
import type { RuleRef } from "../path/types.js";
import { unconditional } from "./chain.js";
import type { FamilyAnalysis } from "./types.js";

export interface AgentEntry {
  /** "final": no entry contains the destination; the final MASQUERADE decides. */
  list: DecisionList | "final";
  /** Canonical CIDR of the entry; none for "final". */
  cidr?: string;
  /** "masqueradeCIDRs 10.100.10.0/24", "link-local 169.254.0.0/16 (masqLinkLocal is false)". */
  text: string;
}

/** The entry a rule of the agent's chain stands for; undefined for other rules and chains. */
export function agentEntryOf(a: FamilyAnalysis, ref: RuleRef | undefined): AgentEntry | undefined {
  if (!ref || ref.chain !== a.chain) return undefined;
  const e = a.entries[ref.index];
  if (!e || e.negated || !unconditional(e) || !(e.ownComment || e.legacy)) return undefined;
  const cidr = e.cidr?.canonical;
  if (e.role === "masquerade" && !cidr)
    return {
      list: "final",
      text: "no entry of nonMasqueradeCIDRs or masqueradeCIDRs contains it (the final MASQUERADE)",
    };
  if (!cidr) return undefined;
  if (e.role === "masquerade")
    return { list: "masqueradeCIDRs", cidr, text: `masqueradeCIDRs ${cidr}` };
  if (e.role !== "return") return undefined;
  if (cidr === LINK_LOCAL_CIDR || cidr === LINK_LOCAL_CIDR_IPV6) {
    const key = cidr === LINK_LOCAL_CIDR ? "masqLinkLocal" : "masqLinkLocalIPv6";
    return { list: "link-local", cidr, text: `link-local ${cidr} (${key} is false)` };
  }
  return { list: "nonMasqueradeCIDRs", cidr, text: `nonMasqueradeCIDRs ${cidr}` };
}

/**
 * Whether `config` lists the entry (the node's rule may have been written for an older config,
 * or by hand with the agent's comment): "final" and link-local follow from any config.
 */
export function entryInConfig(entry: AgentEntry, config: MasqConfig): boolean {
  if (entry.list === "final" || !entry.cidr) return true;
  if (entry.list === "link-local")
    return entry.cidr === LINK_LOCAL_CIDR ? !config.masqLinkLocal : !config.masqLinkLocalIPv6;
  const list =
    entry.list === "masqueradeCIDRs" ? (config.masqueradeCIDRs ?? []) : config.nonMasqueradeCIDRs;
  return list.some((c) => {
    const p = parseCidr(c);
    return p.ok && p.cidr.canonical === entry.cidr;
  });
}

/** A verdict whose entries the config does not list say so in their text. */
export function markEntriesNotInConfig<
  V extends { entry?: AgentEntry; outcomes: readonly { entry?: AgentEntry }[] },
>(v: V, config: MasqConfig): V {
  const mark = <T extends { entry?: AgentEntry }>(i: T): T =>
    i.entry && !entryInConfig(i.entry, config)
      ? { ...i, entry: { ...i.entry, text: `${i.entry.text}, which the config does not list` } }
      : i;
  return { ...mark(v), outcomes: v.outcomes.map(mark) };
}
