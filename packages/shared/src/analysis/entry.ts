// The config entry behind a rule of the agent's chain, for `why` and the node page: which list
// (nonMasqueradeCIDRs, masqueradeCIDRs, link-local) and which CIDR decided a destination. Read
// from the rule itself (a RETURN is a non-masquerade entry, a MASQUERADE with a destination a
// masqueradeCIDRs exception, the one without the final MASQUERADE), so it also answers for a
// dump read without the config. Only rules the agent wrote (its comment, or an older agent's)
// stand for an entry: a hand-added `-d X -j RETURN` is no config entry. With the config at hand,
// `entryInConfig` tells whether the config really lists it.
import { cidrLast, type ParsedIp, parseCidr } from "../cidr.js";
import type { MasqConfig } from "../config.js";
import type { DecisionList } from "../masquerade-decision.js";
import { LINK_LOCAL_CIDR, LINK_LOCAL_CIDR_IPV6 } from "../masquerade-decision.js";
import { setToCidrs } from "../path/range-set.js";
import type { RuleRef } from "../path/types.js";
import { type ChainEntry, unconditional } from "./chain.js";
import type { FamilyAnalysis } from "./types.js";

export interface AgentEntry {
  /** "final": no entry contains the destination; the final MASQUERADE decides. */
  list: DecisionList | "final";
  /** Canonical CIDR of the entry; none for "final". */
  cidr?: string;
  /** "masqueradeCIDRs 10.100.10.0/24", "link-local 169.254.0.0/16 (masqLinkLocal is false)". */
  text: string;
  /**
   * The agent's nftables set (`@nonmasq_v4`) whose element holds the destination: `cidr` is that
   * element, where the config's entries may be merged (10.0.0.0/9 and 10.128.0.0/9 are one
   * interval, 10.0.0.0/8), not one entry as written.
   */
  set?: string;
}

/**
 * The entry a rule of the agent's chain stands for; undefined for other rules and chains. The
 * agent's nftables set lookup stands for the element that holds `destination` (when given).
 */
export function agentEntryOf(
  a: FamilyAnalysis,
  ref: RuleRef | undefined,
  destination?: ParsedIp,
): AgentEntry | undefined {
  if (!ref || ref.chain !== a.chain) return undefined;
  const e = a.entries[ref.index];
  if (!e || e.negated || !(e.ownComment || e.legacy)) return undefined;
  if (!unconditional(e)) return destination && setElementEntry(e, destination);
  return cidrEntry(e);
}

/** An unconditional rule of the agent's chain, by its `-d` (none: the final MASQUERADE). */
function cidrEntry(e: ChainEntry): AgentEntry | undefined {
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
  return returnEntry(cidr);
}

/** A non-masquerade entry, or the link-local one the agent adds when masqLinkLocal is false. */
function returnEntry(cidr: string, set?: string): AgentEntry {
  const of = set ? `, element of ${set}` : "";
  if (cidr === LINK_LOCAL_CIDR || cidr === LINK_LOCAL_CIDR_IPV6) {
    const key = cidr === LINK_LOCAL_CIDR ? "masqLinkLocal" : "masqLinkLocalIPv6";
    return {
      list: "link-local",
      cidr,
      ...(set ? { set } : {}),
      text: `link-local ${cidr} (${key} is false${of})`,
    };
  }
  return {
    list: "nonMasqueradeCIDRs",
    cidr,
    ...(set ? { set } : {}),
    text: `nonMasqueradeCIDRs ${cidr}${set ? ` (element of ${set})` : ""}`,
  };
}

/**
 * A RETURN whose one test is the agent's set lookup (`ip daddr @nonmasq_v4 return`): the
 * element holding the destination, as a non-masquerade (or link-local) entry.
 */
function setElementEntry(e: ChainEntry, ip: ParsedIp): AgentEntry | undefined {
  const tests = e.rule.compiled?.tests ?? [];
  const only = tests.length === 1 ? tests[0] : undefined;
  if (e.role !== "return" || only?.negated || only?.test.kind !== "address-set") return undefined;
  if (only.test.field !== "destination") return undefined;
  const hit = only.test.ranges.find((r) => r.first <= ip.value && ip.value <= r.last);
  const cidr = hit && elementCidr(ip, setToCidrs(ip.family, [hit]));
  if (!cidr) return undefined;
  return returnEntry(cidr, only.test.text);
}

/** Of an element's CIDRs (a range may need several), the one holding `ip`. */
function elementCidr(ip: ParsedIp, cidrs: readonly string[]): string | undefined {
  return cidrs.find((c) => {
    const p = parseCidr(c);
    return p.ok && p.cidr.network <= ip.value && ip.value <= cidrLast(p.cidr);
  });
}

/**
 * Whether `config` lists the entry (the node's rule may have been written for an older config,
 * or by hand with the agent's comment): "final" and link-local follow from any config.
 */
export function entryInConfig(entry: AgentEntry, config: MasqConfig): boolean {
  if (entry.list === "final" || !entry.cidr) return true;
  if (entry.set !== undefined) return elementInConfig(entry, config);
  if (entry.list === "link-local")
    return entry.cidr === LINK_LOCAL_CIDR ? !config.masqLinkLocal : !config.masqLinkLocalIPv6;
  const list =
    entry.list === "masqueradeCIDRs" ? (config.masqueradeCIDRs ?? []) : config.nonMasqueradeCIDRs;
  return list.some((c) => {
    const p = parseCidr(c);
    return p.ok && p.cidr.canonical === entry.cidr;
  });
}

/**
 * A set element stands for config entries merged into it: listed when some entry of its list
 * (or link-local, when the config keeps it) lies inside it.
 */
function elementInConfig(entry: AgentEntry, config: MasqConfig): boolean {
  const element = parseCidr(entry.cidr ?? "");
  if (!element.ok) return false;
  const last = cidrLast(element.cidr);
  const linkLocal = [
    ...(config.masqLinkLocal ? [] : [LINK_LOCAL_CIDR]),
    ...(config.masqLinkLocalIPv6 ? [] : [LINK_LOCAL_CIDR_IPV6]),
  ];
  return [...config.nonMasqueradeCIDRs, ...linkLocal].some((c) => {
    const p = parseCidr(c);
    return p.ok && p.cidr.network >= element.cidr.network && cidrLast(p.cidr) <= last;
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
