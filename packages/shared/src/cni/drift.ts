// Desired (the config) vs observed (the lists of one CNI config file) as typed differences.
import { type Cidr, mustParseCidr, parseCidr, type Range, rangesCover, toRanges } from "../cidr.js";
import type { MasqConfig } from "../config.js";
import { type Difference, sortDifferences } from "../drift.js";
import {
  blocksText,
  cidrRange,
  type RangeSet,
  subtractSets,
  unionSets,
} from "../path/range-set.js";
import type { ExceptionListSnapshot } from "../protocol.js";
import { windowsExceptionList } from "./desired.js";
import { isIPv6List, mixedListIPv6, readExceptionEntry } from "./entries.js";

const scope = "windows" as const;

/** CIDR or entry text → the pointers of the lists concerned. */
type ByPointer = Map<string, string[]>;

interface Findings {
  missing: ByPointer;
  unexpected: ByPointer;
  /** CIDR → the addresses of it that are wrong, over every list (a block may be wrong in part). */
  wrong: Map<string, { cidr: Cidr; set: RangeSet }>;
  unreadable: ByPointer;
  /** Why the text differs where the behaviour does not (for the cosmetic difference). */
  reasons: Set<string>;
}

const NOTE_REASONS = {
  "plain IP": "plain IPs",
  "not aligned": "CIDRs with host bits",
  "not canonical": "non-canonical CIDRs",
} as const;

function addTo(map: ByPointer, key: string, pointer: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [pointer]);
  else if (!list.includes(pointer)) list.push(pointer);
}

/** " at /a, /b" when only some of several lists are concerned. */
function at(pointers: readonly string[], total: number): string {
  return total > 1 ? ` (${pointers.join(", ")})` : "";
}

/** IPv6 CIDRs of the config and IPv6-only lists: reported, not managed on Windows. */
function ipv6Ignored(
  config: MasqConfig,
  lists: readonly ExceptionListSnapshot[],
  managed: readonly ExceptionListSnapshot[],
): Difference[] {
  const out: Difference[] = [];
  const v6Config = config.nonMasqueradeCIDRs.filter((c) => {
    const r = parseCidr(c);
    return r.ok && r.cidr.family === "ipv6";
  });
  if (v6Config.length > 0) {
    out.push({
      kind: "ipv6-ignored",
      severity: "info",
      scope,
      message: `${v6Config.join(", ")} ${v6Config.length === 1 ? "is" : "are"} IPv6: OutBoundNAT exceptions are managed for IPv4 only on Windows`,
      impact:
        "IPv6 pod traffic on this node follows the CNI config's own OutBoundNAT settings, not nonMasqueradeCIDRs",
    });
  }
  for (const l of lists) {
    if (managed.includes(l)) continue;
    out.push({
      kind: "ipv6-ignored",
      severity: "info",
      scope,
      message: `the IPv6 OutBoundNAT list at ${l.pointer} is left as it is`,
      impact: "none for IPv4 traffic",
      rule: l.pointer,
    });
  }
  return out;
}

/** Lists mixing IPv4 and IPv6 entries: HNS expects one list per family. */
function mixedFamilies(managed: readonly ExceptionListSnapshot[]): Difference[] {
  return managed.flatMap((l) => {
    const v6 = mixedListIPv6(l.exceptions);
    if (v6.length === 0) return [];
    return [
      {
        kind: "mixed-families" as const,
        severity: "warning" as const,
        scope,
        message: `the OutBoundNAT list at ${l.pointer} mixes IPv4 and IPv6 entries (${v6.slice(0, 3).join(", ")}${v6.length > 3 ? `, +${v6.length - 3}` : ""})`,
        impact:
          "HNS takes one exception list per address family (AKS writes a second OutBoundNAT policy for IPv6): it may reject this policy, so pods on the node fail to start, or ignore the IPv6 entries. Move them to an OutBoundNAT policy of their own; rewrites keep them where they are",
        rule: l.pointer,
      },
    ];
  });
}

function policyMissing(anyList: boolean): Difference {
  return {
    kind: "policy-missing",
    severity: "critical",
    scope,
    message: anyList
      ? "the CNI config has no IPv4 OutBoundNAT exception list"
      : "the CNI config has no OutBoundNAT exception list",
    impact:
      "the non-masquerade CIDRs are not applied: depending on the plugin, pod traffic is either not SNAT'd at all (it leaves with pod addresses to every destination) or SNAT'd to every destination but the plugin's own subnet",
  };
}

/** Why a list with the desired coverage is written otherwise. */
function textReasons(v4: readonly Cidr[], desired: readonly Cidr[], reasons: Set<string>): void {
  const canon = v4.map((c) => c.canonical);
  const unique = [...new Set(canon)];
  if (unique.length !== canon.length) reasons.add("duplicates");
  const want = desired.map((d) => d.canonical);
  const sameSet = unique.length === want.length && unique.every((c) => want.includes(c));
  if (sameSet && unique.join("\n") !== want.join("\n")) reasons.add("other order");
  if (!sameSet) reasons.add("other blocks covering the same addresses");
}

/** The part of `c` the other side does not cover, added to what is wrong of `c`. */
function addWrong(f: Findings, c: Cidr, other: readonly Range[]): void {
  const gap = subtractSets([cidrRange(c)], other);
  const had = f.wrong.get(c.canonical);
  f.wrong.set(c.canonical, { cidr: c, set: had ? unionSets(had.set, gap) : gap });
}

/** Where only part of `cidr` is wrong, that part as text (a difference names it, not the block). */
function partOf(f: Findings, cidr: string): string | null {
  const w = f.wrong.get(cidr);
  if (!w) return null;
  const whole = subtractSets([cidrRange(w.cidr)], w.set).length === 0;
  return whole ? null : blocksText("ipv4", w.set);
}

/** One IPv4 list against the desired CIDRs, by coverage; findings are added to `f`. */
function compareList(
  l: ExceptionListSnapshot,
  desired: readonly Cidr[],
  desiredRanges: readonly Range[],
  f: Findings,
): void {
  const v4: Cidr[] = [];
  const v4Text: string[] = [];
  l.exceptions.forEach((text) => {
    const r = readExceptionEntry(text);
    if (!r.ok) addTo(f.unreadable, text, l.pointer);
    else if (r.cidr.family === "ipv4") {
      v4.push(r.cidr);
      v4Text.push(text);
      if (r.note) f.reasons.add(NOTE_REASONS[r.note]);
    }
  });
  const observedRanges = toRanges(v4);
  for (const d of desired)
    if (!rangesCover(observedRanges, d)) {
      addTo(f.missing, d.canonical, l.pointer);
      addWrong(f, d, observedRanges);
    }
  for (const o of v4)
    if (!rangesCover(desiredRanges, o)) {
      addTo(f.unexpected, o.canonical, l.pointer);
      addWrong(f, o, desiredRanges);
    }
  if (v4Text.join("\n") !== desired.map((d) => d.canonical).join("\n"))
    textReasons(v4, desired, f.reasons);
}

function findingDifferences(f: Findings, total: number): Difference[] {
  const out: Difference[] = [];
  for (const [cidr, ptrs] of f.missing) {
    const part = partOf(f, cidr);
    out.push({
      kind: "missing-cidr",
      severity: "critical",
      scope,
      cidr,
      message: part
        ? `${cidr} is missing in part from the OutBoundNAT exceptions (${part})${at(ptrs, total)}`
        : `${cidr} is missing from the OutBoundNAT exceptions${at(ptrs, total)}`,
      impact: `traffic to ${part ?? cidr} is SNAT'd to the node address but should keep the pod address`,
      rule: ptrs.join(", "),
    });
  }
  for (const [cidr, ptrs] of f.unexpected) {
    const part = partOf(f, cidr);
    out.push({
      kind: "unexpected-cidr",
      severity: "critical",
      scope,
      cidr,
      message: part
        ? `${cidr} is an OutBoundNAT exception partly outside the config (${part})${at(ptrs, total)}`
        : `${cidr} is an OutBoundNAT exception but not in the config${at(ptrs, total)}`,
      impact: `traffic to ${part ?? cidr} leaves with the pod address but should be SNAT'd to the node address`,
      rule: ptrs.join(", "),
    });
  }
  for (const [text, ptrs] of f.unreadable) {
    out.push({
      kind: "unreadable",
      severity: "warning",
      scope,
      message: `exception ${JSON.stringify(text)} is not an IP address or CIDR${at(ptrs, total)}`,
      impact: "HNS may reject the policy (pods on this node fail to start) or ignore the entry",
      rule: ptrs.join(", "),
    });
  }
  return out;
}

/** The config's masqueradeCIDRs need a list too long for Windows: the node cannot follow it. */
function refusedList(reason: string): Difference {
  return {
    kind: "exception-missing",
    severity: "critical",
    scope,
    message: reason,
    impact: "this node cannot follow the config: its ExceptionList is left as it is",
  };
}

/**
 * Desired (the config) vs observed (the lists of one CNI config file) as typed differences, most
 * severe first, scope "windows". Behaviour first, as on Linux: a desired CIDR is missing when the
 * list's entries do not cover all of its addresses, an entry is unexpected when the desired CIDRs
 * do not cover it; the same coverage written otherwise (order, duplicates, plain IPs, host bits,
 * split blocks) is only cosmetic. Every IPv4 list must match on its own.
 *
 * - no IPv4 list at all: "policy-missing", critical (see the impact text);
 * - entries that are not an IP or CIDR: "unreadable", warning;
 * - a list mixing IPv4 and IPv6 entries: "mixed-families", warning (a rewrite cannot heal it);
 * - IPv6 CIDRs in the config, IPv6-only lists: "ipv6-ignored", info.
 *
 * `rule` of a missing, unexpected or unreadable difference names the lists concerned: their
 * pointers joined with ", ".
 */
export function windowsDrift(
  config: MasqConfig,
  lists: readonly ExceptionListSnapshot[],
): Difference[] {
  const managed = lists.filter((l) => !isIPv6List(l.exceptions));
  const out = ipv6Ignored(config, lists, managed);
  if (managed.length === 0) return sortDifferences([...out, policyMissing(lists.length > 0)]);

  const equivalent = windowsExceptionList(config);
  if (!equivalent.ok) return sortDifferences([...out, refusedList(equivalent.reason)]);
  const desired = equivalent.list.map(mustParseCidr);
  const desiredRanges = toRanges(desired);
  const f: Findings = {
    wrong: new Map(),
    missing: new Map(),
    unexpected: new Map(),
    unreadable: new Map(),
    reasons: new Set(),
  };
  for (const l of managed) compareList(l, desired, desiredRanges, f);
  out.push(...findingDifferences(f, managed.length), ...mixedFamilies(managed));
  const behavioural = out.some((d) => d.severity !== "info");
  if (!behavioural && f.reasons.size > 0) {
    out.push({
      kind: "cosmetic",
      severity: "info",
      scope,
      message: `same behaviour, different text (${[...f.reasons].join(", ")})`,
      impact: "none: traffic is treated as desired",
    });
  }
  return sortDifferences(out);
}
