// Which config entry decides a destination: the most specific CIDR that contains it, across
// nonMasqueradeCIDRs, masqueradeCIDRs (exceptions) and link-local (169.254.0.0/16, fe80::/10,
// the non-masquerade entry upstream adds unless masqLinkLocal*/masqLinkLocalIPv6 is true).
// No entry: the final MASQUERADE. CIDR blocks nest or are disjoint, so "most specific" is one
// entry for every address. Pure; used by validation, rendering, why, drift, Windows and impact.
import {
  type Cidr,
  cidrContainsIp,
  cidrLast,
  type Family,
  mergeRanges,
  type ParsedIp,
  parseCidr,
  type Range,
} from "./cidr.js";
import type { MasqConfig } from "./config.js";
import { rangeToCidrs } from "./path/range-set.js";

/** Upstream's implied non-masquerade ranges (re-exported by config.ts, their usual home). */
export const LINK_LOCAL_CIDR = "169.254.0.0/16";
export const LINK_LOCAL_CIDR_IPV6 = "fe80::/10";

export type DecisionList = "nonMasqueradeCIDRs" | "masqueradeCIDRs" | "link-local";

/** One entry of a config that can decide a destination. */
export interface DecisionEntry {
  list: DecisionList;
  cidr: Cidr;
  /** True for masqueradeCIDRs: traffic to it is masqueraded. */
  masquerade: boolean;
}

/** A run of addresses decided the same way; `entry` undefined: the final MASQUERADE decides. */
export interface DecidedRange {
  family: Family;
  range: Range;
  masquerade: boolean;
  entry?: DecisionEntry;
}

/** The masqueradeCIDRs of a config (the key is optional: absent is none). */
export function exceptionsOf(config: Pick<MasqConfig, "masqueradeCIDRs">): readonly string[] {
  return config.masqueradeCIDRs ?? [];
}

/** A config with at least one exception: rendered most specific first, unknown to upstream. */
export function usesExceptions(config: Pick<MasqConfig, "masqueradeCIDRs">): boolean {
  return exceptionsOf(config).length > 0;
}

function parsedOfFamily(texts: readonly string[], family: Family): Cidr[] {
  return texts.flatMap((t) => {
    const r = parseCidr(t);
    return r.ok && r.cidr.family === family ? [r.cidr] : [];
  });
}

/**
 * The entries of one family, first occurrence of each block (unparsable text is left out: the
 * config is validated elsewhere). A block in both lists (a config error) keeps the
 * non-masquerade entry; link-local comes first, as upstream renders it.
 */
export function decisionEntries(config: MasqConfig, family: Family): DecisionEntry[] {
  const masqLinkLocal = family === "ipv4" ? config.masqLinkLocal : config.masqLinkLocalIPv6;
  const linkLocal = family === "ipv4" ? LINK_LOCAL_CIDR : LINK_LOCAL_CIDR_IPV6;
  const all: DecisionEntry[] = [
    ...parsedOfFamily(masqLinkLocal ? [] : [linkLocal], family).map((cidr) => ({
      list: "link-local" as const,
      cidr,
      masquerade: false,
    })),
    ...parsedOfFamily(config.nonMasqueradeCIDRs, family).map((cidr) => ({
      list: "nonMasqueradeCIDRs" as const,
      cidr,
      masquerade: false,
    })),
    ...parsedOfFamily(exceptionsOf(config), family).map((cidr) => ({
      list: "masqueradeCIDRs" as const,
      cidr,
      masquerade: true,
    })),
  ];
  const seen = new Set<string>();
  return all.filter((e) => !seen.has(e.cidr.canonical) && !!seen.add(e.cidr.canonical));
}

/** Most specific first (longer prefix), then by address: the order exceptions are rendered in. */
export function bySpecificity(a: DecisionEntry, b: DecisionEntry): number {
  if (a.cidr.prefix !== b.cidr.prefix) return b.cidr.prefix - a.cidr.prefix;
  return a.cidr.network < b.cidr.network ? -1 : a.cidr.network > b.cidr.network ? 1 : 0;
}

/** The entry deciding `ip` (undefined: none contains it, the final MASQUERADE decides). */
export function decidingEntry(
  entries: readonly DecisionEntry[],
  ip: ParsedIp,
): DecisionEntry | undefined {
  let best: DecisionEntry | undefined;
  for (const e of entries)
    if (cidrContainsIp(e.cidr, ip) && (!best || e.cidr.prefix > best.cidr.prefix)) best = e;
  return best;
}

/** Is traffic to `ip` masqueraded under this config, and which entry says so. */
export function decide(
  config: MasqConfig,
  ip: ParsedIp,
): { masquerade: boolean; entry?: DecisionEntry } {
  const entry = decidingEntry(decisionEntries(config, ip.family), ip);
  return { masquerade: entry ? entry.masquerade : true, entry };
}

const byStart = (a: DecisionEntry, b: DecisionEntry) =>
  a.cidr.network !== b.cidr.network
    ? a.cidr.network < b.cidr.network
      ? -1
      : 1
    : a.cidr.prefix - b.cidr.prefix;

/**
 * For each entry, the nearest (most specific) other entry containing it, by canonical text.
 * O(n log n): sorted by start, widest first, the holders of an entry form a stack.
 */
export function nearestHolders(entries: readonly DecisionEntry[]): Map<string, DecisionEntry> {
  const out = new Map<string, DecisionEntry>();
  const stack: DecisionEntry[] = [];
  for (const e of [...entries].sort(byStart)) {
    while (stack.length > 0 && cidrLast(stack[stack.length - 1]!.cidr) < e.cidr.network)
      stack.pop();
    const top = stack[stack.length - 1];
    if (top) out.set(e.cidr.canonical, top);
    stack.push(e);
  }
  return out;
}

/**
 * The family's whole address space as disjoint ranges in address order, each with the entry
 * deciding it (none: the final MASQUERADE).
 * O(n log n) in the entries.
 */
export function decidedRanges(entries: readonly DecisionEntry[], family: Family): DecidedRange[] {
  const out: DecidedRange[] = [];
  const top = family === "ipv4" ? (1n << 32n) - 1n : (1n << 128n) - 1n;
  const emit = (first: bigint, last: bigint, entry?: DecisionEntry) => {
    if (first > last) return;
    out.push({ family, range: { first, last }, masquerade: entry?.masquerade ?? true, entry });
  };
  const stack: DecisionEntry[] = [];
  let cursor = 0n;
  const closeUntil = (limit: bigint) => {
    while (stack.length > 0 && cidrLast(stack[stack.length - 1]!.cidr) < limit) {
      const e = stack.pop()!;
      emit(cursor, cidrLast(e.cidr), e);
      cursor = cidrLast(e.cidr) + 1n;
    }
  };
  for (const e of [...entries].filter((x) => x.cidr.family === family).sort(byStart)) {
    closeUntil(e.cidr.network);
    emit(cursor, e.cidr.network - 1n, stack[stack.length - 1]);
    cursor = e.cidr.network;
    stack.push(e);
  }
  closeUntil(top + 1n);
  emit(cursor, top);
  return out;
}

/** A range whose treatment differs between two configs, with the entry deciding it in `after`. */
export interface ChangedRange {
  cidr: string;
  /** True: masqueraded under `after`, kept before. */
  masquerade: boolean;
  entry?: DecisionEntry;
}

/** Blocks listed per family by changedRanges; ranges past it are left out (counted in `more`). */
export const MAX_CHANGED_BLOCKS = 64;

/**
 * What changes for which destinations of one family when `before` becomes `after`: the ranges
 * decided differently, as CIDR blocks in address order, each with `after`'s deciding entry.
 * O(n log n) in the entries (plus the blocks listed).
 */
export function changedRanges(
  before: MasqConfig,
  after: MasqConfig,
  family: Family,
): { changes: ChangedRange[]; more: number } {
  const was = decidedRanges(decisionEntries(before, family), family);
  const now = decidedRanges(decisionEntries(after, family), family);
  const out = { changes: [] as ChangedRange[], more: 0 };
  let i = 0;
  for (const r of now) {
    while (i < was.length && was[i]!.range.last < r.range.first) i++;
    for (let j = i; j < was.length && was[j]!.range.first <= r.range.last; j++)
      if (was[j]!.masquerade !== r.masquerade) addChange(out, family, r, overlap(was[j]!, r));
  }
  return out;
}

// Math.max/min do not take bigints.
const maxOf = (a: bigint, b: bigint) => (a < b ? b : a);
const minOf = (a: bigint, b: bigint) => (a < b ? a : b);
const overlap = (a: DecidedRange, b: DecidedRange): Range => ({
  first: maxOf(a.range.first, b.range.first),
  last: minOf(a.range.last, b.range.last),
});

function addChange(
  out: { changes: ChangedRange[]; more: number },
  family: Family,
  now: DecidedRange,
  range: Range,
): void {
  const room = MAX_CHANGED_BLOCKS - out.changes.length;
  if (room <= 0) {
    out.more++;
    return;
  }
  for (const cidr of rangeToCidrs(family, range, room))
    out.changes.push({ cidr, masquerade: now.masquerade, entry: now.entry });
}

/**
 * The destinations of a family that keep the pod address (longest prefix deciding), as the
 * fewest disjoint, non-adjacent ranges: what an interval set (nftables) or an ExceptionList
 * (Windows) must hold for a config with masqueradeCIDRs.
 */
export function keptRanges(config: MasqConfig, family: Family): Range[] {
  const decided = decidedRanges(decisionEntries(config, family), family);
  return mergeRanges(decided.filter((d) => !d.masquerade).map((d) => d.range));
}
