// Drift by destination: which addresses the node's chain returns (keeps the pod address) and
// which the config wants returned, first match deciding on both sides. With masqueradeCIDRs the
// order of the rules matters: an exception's MASQUERADE behind the RETURN that contains it is
// dead, and that is named (`exception-shadowed`), never reported as in sync.

import type { FamilyAnalysis } from "./analysis/types.js";
import { type Cidr, toRanges } from "./cidr.js";
import { perDesiredChain } from "./desired-memo.js";
import type { Difference } from "./drift.js";
import {
  blocksText as blocks,
  cidrRange,
  intersectSets,
  type RangeSet,
  sameSet,
  setToCidrs,
  subtractSets,
  unionSets,
} from "./path/range-set.js";
import type { DesiredChain, DesiredRule } from "./rules.js";

type MasqueradeRule = Extract<DesiredRule, { kind: "masquerade" }>;

interface DesiredEntry {
  kind: "return" | "exception";
  cidr: Cidr;
  /** What this entry decides: its block minus the entries before it (first match). */
  set: RangeSet;
  rules: DesiredRule[];
}

/**
 * The desired chain's entries in order, each with the destinations it decides: once per
 * desired chain (drift asks three times per node, every node of a revision the same chain).
 */
export const desiredEntries: (d: DesiredChain) => readonly DesiredEntry[] =
  perDesiredChain(entriesOf);

function entriesOf(d: DesiredChain): DesiredEntry[] {
  const out: DesiredEntry[] = [];
  let decided: RangeSet = [];
  for (const r of d.rules) {
    if (!r.cidr) continue;
    const last = out[out.length - 1];
    if (r.kind === "masquerade" && last?.kind === "exception" && last.cidr === r.cidr) {
      last.rules.push(r);
      continue;
    }
    const block = [cidrRange(r.cidr)];
    const kind = r.kind === "return" ? "return" : "exception";
    out.push({ kind, cidr: r.cidr, set: subtractSets(block, decided), rules: [r] });
    decided = unionSets(decided, block);
  }
  return out;
}

/** What the config keeps unmasqueraded (first match decides), as merged ranges; read only. */
export const desiredReturned: (d: DesiredChain) => RangeSet = perDesiredChain((d) =>
  returnedBy(desiredEntries(d), "return"),
);

/** What a node's RETURN may keep unmasqueraded: the config's RETURNs and its exceptions. */
const allowedReturns = perDesiredChain((d) => {
  const want = desiredEntries(d);
  return unionSets(returnedBy(want, "return"), returnedBy(want, "exception"));
});

const returnedBy = (entries: readonly DesiredEntry[], kind: DesiredEntry["kind"]): RangeSet =>
  entries.filter((e) => e.kind === kind).reduce<RangeSet>((a, e) => unionSets(a, e.set), []);

function missingReturns(
  d: DesiredChain,
  want: readonly DesiredEntry[],
  have: RangeSet,
): Difference[] {
  const out: Difference[] = [];
  for (const e of want) {
    if (e.kind !== "return") continue;
    const gap = subtractSets(e.set, have);
    if (gap.length === 0) continue;
    const c = e.cidr.canonical;
    const whole = sameSet(gap, e.set);
    out.push({
      kind: "missing-cidr",
      severity: "critical",
      scope: d.family,
      cidr: c,
      message: whole ? `${c} is missing` : `${c} is missing in part (${blocks(d.family, gap)})`,
      impact: `traffic to ${whole ? c : blocks(d.family, gap)} is masqueraded but should keep the pod address`,
    });
  }
  return out;
}

/**
 * Returned destinations of the node the config does not return: per RETURN rule of the node,
 * what it returns that no desired RETURN does (destinations of a desired exception are
 * reported by exceptionDifferences instead).
 */
function unexpectedReturns(d: DesiredChain, o: FamilyAnalysis) {
  const allowed = allowedReturns(d);
  const out: Difference[] = [];
  const seen = new Set<string>();
  for (const r of o.decisions) {
    if (r.masquerade) continue;
    const extra = subtractSets(r.set, allowed);
    if (extra.length === 0) continue;
    for (const u of unexpectedOf(d, o.entries[r.index]!, extra)) {
      if (seen.has(u.cidr)) continue;
      seen.add(u.cidr);
      out.push(u);
    }
  }
  return out;
}

/** The differences of one node RETURN that keeps `extra`, addresses the config masquerades. */
function unexpectedOf(
  d: DesiredChain,
  e: FamilyAnalysis["entries"][number],
  extra: RangeSet,
): (Difference & { cidr: string })[] {
  const difference = (c: string, part: string | null) => ({
    kind: "unexpected-cidr" as const,
    severity: "critical" as const,
    scope: d.family,
    cidr: c,
    message: part ? `${c} is partly outside the config (${part})` : `${c} is not in the config`,
    impact: `traffic to ${part ?? c} leaves with the pod address but should be masqueraded`,
  });
  // A RETURN for one block is named by it; one for the rest of the family by its pieces.
  if (e.cidr && !e.negated) {
    // A block the config keeps in part: the impact is only the rest's, never the whole block's.
    const whole = sameSet(extra, [cidrRange(e.cidr)]);
    return [difference(e.cidr.canonical, whole ? null : blocks(d.family, extra))];
  }
  const pieces = setToCidrs(d.family, extra, 64) ?? [blocks(d.family, extra)];
  return pieces.map((c) => difference(c, null));
}

/** RETURNs missing or extra, judged by the destinations they decide (first match). */
export function destinationDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const want = desiredEntries(d);
  const have = toRanges(o.returns);
  return [
    ...missingReturns(d, want, have),
    ...unexpectedReturns(d, o),
    ...exceptionDifferences(d, o, want, have),
  ];
}

/** The node's own MASQUERADE for an exception (the rule for every protocol). */
function exceptionRule(o: FamilyAnalysis, cidr: Cidr) {
  return o.entries.find(
    (e) =>
      e.role === "masquerade" &&
      !e.negated &&
      e.cidr?.canonical === cidr.canonical &&
      e.conditions.length === 0 &&
      e.protocol === undefined &&
      e.probability === undefined,
  );
}

/** The first unconditional RETURN before `index` that returns some of `set`. */
function shadowingReturn(o: FamilyAnalysis, index: number, set: RangeSet) {
  for (const r of o.decisions)
    if (!r.masquerade && r.index < index && intersectSets(r.set, set).length > 0)
      return o.entries[r.index];
  return undefined;
}

/** masqueradeCIDRs the node does not masquerade: no rule, or a rule behind a RETURN. */
function exceptionDifferences(
  d: DesiredChain,
  o: FamilyAnalysis,
  want: readonly DesiredEntry[],
  have: RangeSet,
): Difference[] {
  const out: Difference[] = [];
  for (const e of want) {
    if (e.kind !== "exception") continue;
    const kept = intersectSets(have, e.set);
    if (kept.length === 0) continue;
    const c = e.cidr.canonical;
    const part = sameSet(kept, e.set) ? "" : ` (${blocks(d.family, kept)})`;
    const impact = `traffic to ${c}${part} keeps the pod address but should be masqueraded (masqueradeCIDRs)`;
    const own = exceptionRule(o, e.cidr);
    const shadow = own && shadowingReturn(o, own.index, kept);
    if (own && shadow)
      out.push({
        kind: "exception-shadowed",
        severity: "critical",
        scope: d.family,
        cidr: c,
        message: `the MASQUERADE for masqueradeCIDRs ${c} (rule ${own.index + 1}) comes after the RETURN for ${shadow.cidr?.canonical ?? "every destination"} (rule ${shadow.index + 1}), so it never applies${part}`,
        impact: `${impact}; the more specific rule must come first`,
        rule: own.rule.text,
      });
    else
      out.push({
        kind: "exception-missing",
        severity: "critical",
        scope: d.family,
        cidr: c,
        message: `masqueradeCIDRs ${c} has no MASQUERADE rule in ${d.chain}${part}`,
        impact,
      });
  }
  return out;
}

/** Desired exception rules, for option checks: by canonical block (once per chain; read only). */
export const desiredExceptionRules: (
  d: DesiredChain,
) => ReadonlyMap<string, readonly MasqueradeRule[]> = perDesiredChain((d) => {
  const out = new Map<string, MasqueradeRule[]>();
  for (const e of desiredEntries(d))
    if (e.kind === "exception")
      out.set(
        e.cidr.canonical,
        e.rules.flatMap((r) => (r.kind === "masquerade" ? [r] : [])),
      );
  return out;
});
