// Differences the packet's path makes, beyond the agent's own chain: another component's NAT
// or ACCEPT that decides packets before they reach the agent's chain, or a NAT after the agent
// returned them. Only where the effect differs from what the config wants (behaviour first):
// a CNI chain masquerading traffic the agent would masquerade anyway is no difference.
import type { FamilyAnalysis } from "./analysis/types.js";
import type { Cidr, Family } from "./cidr.js";
import { perDesiredChain } from "./desired-memo.js";
import type { Difference, Severity } from "./drift.js";
import { desiredReturned } from "./drift-destinations.js";
import { describeConditions, describeRef } from "./path/describe.js";
import { loopbackSourcesOnly } from "./path/loopback.js";
import {
  cidrRange,
  intersectSets,
  type RangeSet,
  setToCidrs,
  subtractSets,
  unionSets,
} from "./path/range-set.js";
import type { PathOutcome, RuleRef } from "./path/types.js";
import type { DesiredChain } from "./rules.js";

/** NAT that kube-proxy and portmap apply to packets they marked themselves, by design. */
function expected(o: PathOutcome): boolean {
  const id = o.decidedBy?.component.id;
  return (
    (id === "kube-proxy" || id === "cni-portmap") &&
    o.conditions.some((c) => c.field === "mark" && c.holds)
  );
}

interface Finding {
  kind: "jump-shadowed" | "masqueraded-after" | "backend-conflict";
  ref: RuleRef;
  /** How many rules this finding stands for (e.g. one CNI bridge chain per pod). */
  rules: Set<string>;
  nat: boolean;
  /** Destinations whose treatment differs from the config. */
  affected: RangeSet;
  /** Conditions beyond the destination (which packets), in words; [] for all. */
  who: string[][];
}

function list(items: readonly string[]): string {
  return items.length > 4
    ? `${items.slice(0, 4).join(", ")} and ${items.length - 4} more`
    : items.join(", ");
}

/**
 * The affected destinations in the config's own terms: each configured CIDR they touch, as the
 * part affected or as what is left out, whichever is shorter; the rest as CIDRs.
 */
function describeSet(family: Family, set: RangeSet, config: readonly Cidr[]): string {
  const parts: string[] = [];
  let rest = set;
  for (const c of config) {
    const block = [cidrRange(c)];
    const inside = intersectSets(set, block);
    if (inside.length === 0) continue;
    const missing = setToCidrs(family, subtractSets(block, inside));
    const within = setToCidrs(family, inside);
    // Whichever is shorter: "10.99.0.0/16 (in 10.0.0.0/8)" or "10.0.0.0/8 except 10.64.0.0/26".
    parts.push(
      missing.length === 0
        ? c.canonical
        : within.length <= missing.length
          ? `${list(within)} (in ${c.canonical})`
          : `${c.canonical} except ${list(missing)}`,
    );
    rest = subtractSets(rest, block);
  }
  parts.push(...setToCidrs(family, rest));
  return list(parts);
}

/**
 * What a deciding rule does to the config's intent: on another backend only NAT counts;
 * before the agent's chain a NAT or ACCEPT shadows its jump; after it a NAT overrides it.
 */
function findingKind(
  o: PathOutcome,
  by: RuleRef,
  nat: boolean,
  other: boolean,
): Finding["kind"] | undefined {
  if (other) return nat ? "backend-conflict" : undefined;
  const accept = o.result === "accept" && / -j ACCEPT( |$)/.test(by.text);
  if (o.agent === "before" && (nat || accept)) return "jump-shadowed";
  return o.agent === "after" && nat ? "masqueraded-after" : undefined;
}

/**
 * Which packets: everything but the destination, assumptions about unread chains, and the
 * absence of a mark (unmarked is what pod traffic normally is; marks are set for exceptions).
 */
function whoOf(o: PathOutcome): string[] {
  return describeConditions(
    o.conditions.filter(
      (c) => c.field !== "destination" && c.field !== "chain" && !(c.field === "mark" && !c.holds),
    ),
  );
}

/**
 * `other`: the outcome comes from another iptables backend's nat POSTROUTING. There only NAT
 * counts: a packet it lets go unchanged still meets this backend's chains (nf_nat_inet_fn).
 */
function findingOf(
  o: PathOutcome,
  family: Family,
  wanted: RangeSet,
  other = false,
): (Omit<Finding, "who"> & { who: string[] }) | undefined {
  if (!o.decidedBy || expected(o) || loopbackSourcesOnly(o.source, family)) return undefined;
  const nat = o.result === "masquerade" || o.result === "snat";
  const kind = findingKind(o, o.decidedBy, nat, other);
  if (!kind) return undefined;
  const affected = nat ? intersectSets(o.destination, wanted) : subtractSets(o.destination, wanted);
  if (affected.length === 0) return undefined;
  return {
    kind,
    ref: o.decidedBy,
    rules: new Set([`${o.decidedBy.chain}#${o.decidedBy.index}`]),
    nat,
    affected,
    who: whoOf(o),
  };
}

/**
 * Findings of one component doing the same thing in several chains (the bridge plugin's chain
 * per pod) are one finding; rules of unknown origin are each their own.
 */
function groupKey(f: Omit<Finding, "who">): string {
  const { component, chain, index, text } = f.ref;
  const what =
    component.id === "unknown"
      ? `${chain}#${index}`
      : `${component.id}|${text.slice(text.indexOf(" -j "))}`;
  return `${f.kind}|${f.nat}|${what}`;
}

/** Findings grouped by deciding rule: their destinations merged, their packet conditions listed. */
function findings(o: FamilyAnalysis, wanted: RangeSet, other = false): Finding[] {
  const byRule = new Map<string, Finding>();
  for (const outcome of o.outcomes) {
    const f = findingOf(outcome, o.family, wanted, other);
    if (!f) continue;
    const key = groupKey(f);
    const prev = byRule.get(key);
    if (!prev) byRule.set(key, { ...f, who: [f.who] });
    else {
      prev.affected = unionSets(prev.affected, f.affected);
      prev.who.push(f.who);
      for (const r of f.rules) prev.rules.add(r);
    }
  }
  return [...byRule.values()];
}

function whoText(who: string[][]): { all: boolean; text: string } {
  if (who.some((w) => w.length === 0)) return { all: true, text: "all pod traffic" };
  const alternatives = [...new Set(who.map((w) => w.join(" and ")))];
  return { all: false, text: `pod traffic with ${list(alternatives)}` };
}

function differenceOf(d: DesiredChain, f: Finding, where = ""): Difference {
  const { all, text } = whoText(f.who);
  const severity: Severity = all ? "critical" : "warning";
  const to = describeSet(d.family, f.affected, returnCidrs(d));
  const more = f.rules.size - 1;
  const by = `${describeRef(f.ref)}${more > 0 ? ` and ${more} more like it` : ""}`;
  if (f.kind === "backend-conflict")
    return {
      kind: f.kind,
      severity,
      scope: d.family,
      message: `${by} in ${where} ${more > 0 ? "masquerade" : "masquerades"} traffic: that backend acts on packets too`,
      impact: `${text} to ${to} is masqueraded though the config keeps the pod address for it; a resync does not remove rules of another backend`,
      rule: f.ref.text,
    };
  if (f.kind === "masqueraded-after")
    return {
      kind: f.kind,
      severity,
      scope: d.family,
      message: `${by} ${more > 0 ? "masquerade" : "masquerades"} traffic after ${d.chain} returned it`,
      impact: `${text} to ${to} is masqueraded though the config keeps the pod address for it`,
      rule: f.ref.text,
    };
  return {
    kind: f.kind,
    severity,
    scope: d.family,
    message: `${by} ${f.nat ? "masquerade" : "accept"}${more > 0 ? "" : "s"} traffic before ${d.chain} is reached`,
    impact: f.nat
      ? `${text} to ${to} is masqueraded though the config keeps the pod address for it`
      : `${text} to ${to} leaves with the pod address though the config masquerades it`,
    rule: f.ref.text,
  };
}

/** The config's non-masquerade blocks, to name affected destinations in its own terms. */
const returnCidrs = perDesiredChain((d): readonly Cidr[] =>
  d.rules.flatMap((r) => (r.kind === "return" ? [r.cidr] : [])),
);

/** Differences made by other rules on the path (NAT or ACCEPT before the jump, NAT after it). */
export function pathDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const wanted = desiredReturned(d);
  return findings(o, wanted).map((f) => differenceOf(d, f));
}

/**
 * Differences made by the nat POSTROUTING of another iptables backend that does not hold the
 * agent's chain (`where` names it): its NAT of traffic the config keeps unmasqueraded. Both
 * backends' nat chains act on every packet, so no resync of the agent's chain undoes it.
 */
export function otherBackendPathDifferences(
  d: DesiredChain,
  o: FamilyAnalysis,
  where: string,
): Difference[] {
  const wanted = desiredReturned(d);
  return findings(o, wanted, true).map((f) => differenceOf(d, f, where));
}
