// Desired vs observed, as typed differences with a severity. Behaviour first: the same
// effect written with other comments or in another order is only cosmetic.
import type { FamilyAnalysis } from "./analysis/types.js";
import type { Family } from "./cidr.js";
import { desiredLines, perDesiredChain } from "./desired-memo.js";
import { desiredExceptionRules, destinationDifferences } from "./drift-destinations.js";
import { pathDifferences } from "./drift-path.js";
import { behaviourKey, parseIptables } from "./parser.js";
import { describeConditions, describeRef } from "./path/describe.js";
import { compileRule } from "./path/matches.js";
import type { PathOutcome } from "./path/types.js";
import type { DesiredChain } from "./rules.js";

export type DriftKind =
  | "chain-missing"
  | "jump-missing"
  | "jump-duplicate"
  | "jump-modified"
  /** Another rule on the path NATs or accepts packets before the agent's chain is reached. */
  | "jump-shadowed"
  /** Another rule on the path NATs packets after the agent's chain returned them. */
  | "masqueraded-after"
  | "missing-cidr"
  | "unexpected-cidr"
  /** A masqueradeCIDRs exception with no MASQUERADE rule on the node. */
  | "exception-missing"
  /** An exception's MASQUERADE behind a RETURN that returns its traffic first (dead rule). */
  | "exception-shadowed"
  | "masquerade-missing"
  | "masquerade-not-last"
  | "masquerade-options"
  | "foreign-rule"
  /**
   * The agent's own rule (its comment, nothing it never writes) for an entry the desired config
   * does not list: written for another config, not by someone else.
   */
  | "stale-rule"
  | "unreadable"
  /**
   * The other iptables backend (legacy or nf_tables) acts against the config: the agent's chain
   * is there too, or its POSTROUTING NATs traffic the config keeps.
   */
  | "backend-conflict"
  | "cosmetic"
  /** Windows: the CNI config has no (IPv4) OutBoundNAT exception list. */
  | "policy-missing"
  /** Windows: IPv6 CIDRs or an IPv6 OutBoundNAT list, which this product does not manage there. */
  | "ipv6-ignored"
  /** Windows: one OutBoundNAT list holding IPv4 and IPv6 entries (HNS expects one per family). */
  | "mixed-families";

/** critical: traffic is treated differently than desired; warning: risky or partly different; info: cosmetic. */
export type Severity = "critical" | "warning" | "info";

export interface Difference {
  kind: DriftKind;
  severity: Severity;
  scope: Family | "windows";
  /** What differs, in a few words. */
  message: string;
  /** What it means for traffic. */
  impact?: string;
  cidr?: string;
  /** The observed rule involved, if any. */
  rule?: string;
  /**
   * backend-conflict only: the agent's own chain, which its next apply removes (its iptables
   * chain left beside its nftables table, nft-write.ts retires it), so a resync heals it,
   * unlike another backend's rules.
   */
  removedByApply?: true;
}

export type DriftStatus = "in-sync" | "drifted";

export interface DriftReport {
  status: DriftStatus;
  /** In sync, but the text differs from what the agent would write. */
  cosmetic: boolean;
  differences: Difference[];
  /** One line for tables: "missing 10.0.0.0/8, jump missing". */
  summary: string;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/**
 * Why a jump never takes pod traffic to a remote address: it matches no packet, or only local
 * destinations (`-m addrtype --dst-type LOCAL`).
 */
function jumpNeverTaken(rule: FamilyAnalysis["jumps"][number]["rule"], o: FamilyAnalysis) {
  const c = compileRule(rule, o.family);
  if (c.matchesNothing) return c.matchesNothing;
  const local = c.tests.find((t) => t.test.kind === "non-local" && !t.negated);
  return local ? `${local.test.text} matches only the node's own addresses` : undefined;
}

const NEVER_USED =
  "the chain is never used: pod traffic is not masqueraded by the agent to any destination";

/** Jump state; nothing when POSTROUTING was not read (the input is the chain alone). */
function jumpDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const scope = d.family;
  const out: Difference[] = [];
  if (!o.postroutingRead) return out;
  const reached = o.path.some((c) => c.name === d.chain);
  const never = o.jumps.map((j) => jumpNeverTaken(j.rule, o));
  if (o.jumps.length === 0 && reached) {
    // Reached through another chain (POSTROUTING -j X, X -j IP-MASQ-AGENT): not missing.
    const via = o.outcomes.find((x) => x.agent !== "before")?.via ?? [];
    out.push({
      kind: "jump-modified",
      severity: "warning",
      scope,
      message: `POSTROUTING reaches ${d.chain} through ${via.slice(1, via.indexOf(d.chain)).join(", ") || "another chain"}, not by its own jump`,
      impact: "traffic reaches the chain only as the chains on the way let it",
    });
  } else if (o.jumps.length === 0) {
    out.push({
      kind: "jump-missing",
      severity: "critical",
      scope,
      message: `POSTROUTING does not jump to ${d.chain}`,
      impact: NEVER_USED,
    });
  } else if (never.every((w) => w !== undefined)) {
    out.push({
      kind: "jump-missing",
      severity: "critical",
      scope,
      message: `POSTROUTING's jump to ${d.chain} never takes pod traffic to remote addresses: ${never[0]}`,
      impact: NEVER_USED,
      rule: o.jumps[0]!.rule.text,
    });
  } else {
    if (o.jumps.length > 1)
      out.push({
        kind: "jump-duplicate",
        severity: "warning",
        scope,
        message: `POSTROUTING jumps to ${d.chain} ${o.jumps.length} times`,
        impact: "harmless for traffic, but a sign of two agents or hand edits",
        rule: o.jumps[1]?.rule.text,
      });
    const first = o.jumps[0]!;
    if (!first.canonical)
      out.push({
        kind: "jump-modified",
        severity: "warning",
        scope,
        message: `the jump to ${d.chain} has other conditions (${first.conditions.join(", ") || "other target options"})`,
        impact: "some traffic may skip the chain",
        rule: first.rule.text,
      });
  }
  return out;
}

function masqueradeOptionsKey(
  entries: readonly {
    protocol?: string;
    toPorts?: string;
    probability?: number;
    randomFully?: boolean;
  }[],
): string {
  // iptables stores probabilities in 1/2^31 steps; compare at 6 decimals.
  return entries
    .map(
      (e) =>
        `${e.protocol ?? "*"}:${e.toPorts ?? ""}:${e.probability === undefined ? "" : e.probability.toFixed(6)}:${e.randomFully ? "rf" : ""}`,
    )
    .join(",");
}

function masqueradeDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const scope = d.family;
  const out: Difference[] = [];
  if (o.finalMasquerade === undefined) {
    out.push({
      kind: "masquerade-missing",
      severity: "critical",
      scope,
      message: `${d.chain} has no final MASQUERADE rule`,
      impact: translatedImpact(o.outcomes),
    });
    return out;
  }
  if (o.unreachable.length > 0) {
    const first = o.entries[o.unreachable[0]!]!;
    out.push({
      kind: "masquerade-not-last",
      severity: "warning",
      scope,
      message: `MASQUERADE is not the last rule of ${d.chain} (${o.unreachable.length} rule(s) after it never apply)`,
      impact: "rules after MASQUERADE have no effect",
      rule: first.rule.text,
    });
  }
  const want = d.rules.flatMap((r) => (r.kind === "masquerade" && !r.cidr ? [r] : []));
  const have = o.entries.filter(
    (e) => e.role === "masquerade" && e.index <= o.finalMasquerade! && !e.cidr,
  );
  if (masqueradeOptionsKey(want) !== masqueradeOptionsKey(have)) {
    const final = o.entries[o.finalMasquerade]!;
    out.push({
      kind: "masquerade-options",
      severity: "warning",
      scope,
      message: `MASQUERADE options differ (want ${want.map((r) => r.line.split(" -j ")[1]).join(" | ")})`,
      impact: "source ports are chosen differently than configured",
      rule: final.rule.text,
    });
  }
  return [...out, ...exceptionOptionDifferences(d, o)];
}

/** The options (random-fully, to-ports) of each masqueradeCIDRs exception's rules. */
function exceptionOptionDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const out: Difference[] = [];
  for (const [cidr, want] of desiredExceptionRules(d)) {
    const have = o.entries.filter(
      (e) =>
        e.role === "masquerade" &&
        !e.negated &&
        e.cidr?.canonical === cidr &&
        (o.finalMasquerade === undefined || e.index < o.finalMasquerade),
    );
    if (have.length === 0 || masqueradeOptionsKey(want) === masqueradeOptionsKey(have)) continue;
    out.push({
      kind: "masquerade-options",
      severity: "warning",
      scope: d.family,
      cidr,
      message: `MASQUERADE options of masqueradeCIDRs ${cidr} differ (want ${want.map((r) => r.line.split(" -j ")[1]).join(" | ")})`,
      impact: `source ports of traffic to ${cidr} are chosen differently than configured`,
      rule: have[have.length - 1]!.rule.text,
    });
  }
  return out;
}

const isNat = (x: PathOutcome) => x.result === "masquerade" || x.result === "snat";
/** Translations listed in an impact; more are counted. */
const FEW_TRANSLATIONS = 3;

/**
 * What happens to pod traffic without the agent's final MASQUERADE, in words, from the path's
 * outcomes (a MASQUERADE narrowed to TCP, or an SNAT, still translates some of it).
 */
export function translatedImpact(outcomes: readonly PathOutcome[]): string {
  const nat = outcomes.filter((x) => isNat(x) && x.decidedBy);
  if (nat.length === 0)
    return "pod traffic leaves the node with pod addresses to every destination";
  const list = nat.slice(0, FEW_TRANSLATIONS).map((x) => {
    const how =
      x.result === "snat" ? `SNAT'd to ${x.toSource ?? "another address"}` : "masqueraded";
    const when = describeConditions(x.conditions).join(" and ");
    return `${when ? `${when}: ` : ""}${how} by ${describeRef(x.decidedBy!)}`;
  });
  const more = nat.length > FEW_TRANSLATIONS ? ` and ${nat.length - FEW_TRANSLATIONS} more` : "";
  const text = `${list.join("; ")}${more}`;
  return outcomes.some((x) => !isNat(x))
    ? `only some pod traffic is translated (${text}); the rest leaves with pod addresses`
    : `pod traffic is translated, but not by the agent's MASQUERADE (${text})`;
}

/**
 * The agent's MASQUERADE for a masqueradeCIDRs block as it writes one (its exception comment, a
 * plain destination, no condition it never writes): whichever config it was written for.
 */
const agentException = (e: FamilyAnalysis["entries"][number]) =>
  e.role === "masquerade" &&
  e.ownComment &&
  e.cidr !== undefined &&
  !e.negated &&
  e.conditions.length === 0;

/** Rules of the agent's chain the desired chain does not have: someone else's, or another config's. */
function foreignDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const exceptions = desiredExceptionRules(d);
  // A MASQUERADE for a desired exception is the agent's own; any other with a destination is not.
  const ownException = (e: FamilyAnalysis["entries"][number]) =>
    !e.negated && e.conditions.length === 0 && exceptions.has(e.cidr?.canonical ?? "");
  return o.entries
    .filter(
      (e) =>
        // An unreadable line is reported once, as unreadable.
        (e.role === "foreign" && e.rule.unreadable === undefined) ||
        e.negated ||
        (e.role === "return" &&
          (e.conditions.length > 0 || e.protocol !== undefined || e.probability !== undefined)) ||
        (e.role === "masquerade" &&
          (e.conditions.length > 0 || (e.cidr !== undefined && !ownException(e)))),
    )
    .map((e) => (agentException(e) ? staleException(d, e) : foreignRule(d, e)));
}

function foreignRule(d: DesiredChain, e: FamilyAnalysis["entries"][number]): Difference {
  return {
    kind: "foreign-rule",
    severity: "warning",
    scope: d.family,
    message: `rule ${e.index + 1} of ${d.chain} was not written by the agent (${e.rule.target ?? "no target"})`,
    impact: "it changes what some traffic does; the next apply removes it",
    rule: e.rule.text,
  };
}

/** The agent's exception rule for a block the desired config does not list (an older config's). */
function staleException(d: DesiredChain, e: FamilyAnalysis["entries"][number]): Difference {
  const cidr = e.cidr!.canonical;
  return {
    kind: "stale-rule",
    severity: "warning",
    scope: d.family,
    cidr,
    message: `rule ${e.index + 1} of ${d.chain} is the agent's MASQUERADE for masqueradeCIDRs ${cidr}, which the desired config does not list (written for another config)`,
    impact: `it applies masqueradeCIDRs ${cidr} of another config; the next apply removes it`,
    rule: e.rule.text,
  };
}

/** The desired rules' behaviour keys with comments, one per line (parsed once per chain). */
const cosmeticKey = perDesiredChain((d) => {
  const text = desiredLines(d).join("\n");
  const parsed = parseIptables(text).ruleset.tables.get("nat")?.get(d.chain)?.rules ?? [];
  return parsed.map((r) => `${behaviourKey(r)}#${r.comment ?? ""}`).join("\n");
});

function cosmeticDifferences(d: DesiredChain, o: FamilyAnalysis): Difference[] {
  const have = o.entries.map((e) => `${behaviourKey(e.rule)}#${e.rule.comment ?? ""}`);
  const jumpExact = o.jumps.length === 1 && o.jumps[0]!.exact;
  if (
    cosmeticKey(d) === have.join("\n") &&
    (jumpExact || o.jumps.length !== 1 || !o.jumps[0]!.canonical)
  )
    return [];
  const reasons: string[] = [];
  if (o.entries.some((e) => e.legacy)) reasons.push("written by an older agent");
  if (o.entries.some((e) => !e.ownComment && e.role !== "foreign")) reasons.push("other comments");
  if (o.jumps.length === 1 && !o.jumps[0]!.exact && o.jumps[0]!.canonical)
    reasons.push("the jump has another comment");
  if (reasons.length === 0) reasons.push("other order or redundant rules");
  return [
    {
      kind: "cosmetic",
      severity: "info",
      scope: d.family,
      message: `same behaviour, different text (${reasons.join(", ")})`,
      impact: "none: traffic is treated as desired",
    },
  ];
}

/** Typed differences between the desired chain and what a node has, most severe first. */
export function computeDrift(desired: DesiredChain, observed: FamilyAnalysis): Difference[] {
  const scope = desired.family;
  const out: Difference[] = observed.errors.map((e) => ({
    kind: "unreadable" as const,
    severity: "warning" as const,
    scope,
    message: `line ${e.line} could not be read: ${e.reason}`,
    rule: e.text,
  }));
  if (!observed.chainExists) {
    out.push({
      kind: "chain-missing",
      severity: "critical",
      scope,
      message: `${desired.chain} does not exist`,
      impact: "pod traffic is not masqueraded by the agent to any destination",
    });
    out.push(...pathDifferences(desired, observed));
    return sortDifferences(out);
  }
  out.push(
    ...jumpDifferences(desired, observed),
    ...pathDifferences(desired, observed),
    ...destinationDifferences(desired, observed),
    ...masqueradeDifferences(desired, observed),
    ...foreignDifferences(desired, observed),
  );
  if (out.length === 0) out.push(...cosmeticDifferences(desired, observed));
  return sortDifferences(out);
}

export function sortDifferences(diffs: Difference[]): Difference[] {
  return [...diffs].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

/**
 * Differences made by other components' rules on the path (NAT or ACCEPT before the agent's
 * chain, NAT after it): reported, never rewritten by an apply.
 */
export const OTHER_COMPONENT_KINDS: ReadonlySet<DriftKind> = new Set([
  "jump-shadowed",
  "masqueraded-after",
]);

/**
 * Whether a resync (re-applying the agent's chain and jump) can remove this difference: not
 * for other components' rules, nor for rules of the other iptables backend, which an apply
 * never touches (but the agent's own iptables chain beside its nftables table, which an apply
 * removes), nor for a Windows OutBoundNAT list mixing IPv4 and IPv6 entries (a rewrite keeps the
 * IPv6 ones where they are, cni/rewrite.ts); cosmetic ones need no healing.
 */
export function healedByResync(d: Difference): boolean {
  return (
    d.severity !== "info" &&
    !OTHER_COMPONENT_KINDS.has(d.kind) &&
    d.kind !== "mixed-families" &&
    (d.kind !== "backend-conflict" || d.removedByApply === true)
  );
}

/** Why a resync leaves a node drifted, by what differs (node-neutral: said of one node or many). */
export const RESYNC_CANNOT_HEAL = {
  other:
    "what differs is only other components' rules on the path (NAT or ACCEPT before the agent's chain, NAT after it), which a resync does not rewrite: it rewrites only the agent's chain and its jump",
  backend:
    "what differs is only the other iptables backend's rules, which a resync does not touch: it rewrites only the agent's chain and its jump in the backend the agent uses",
  both: "what differs is only other components' rules on the path and the other iptables backend's rules, neither of which a resync rewrites: it rewrites only the agent's chain and its jump",
  mixed:
    "what differs is only OutBoundNAT lists mixing IPv4 and IPv6 entries, which a resync leaves mixed: it rewrites their IPv4 entries and keeps the IPv6 ones where they are",
} as const;

/**
 * Why a resync cannot change what a drifted node differs in: every behavioural difference is
 * one an apply never rewrites (healedByResync); null when a resync heals some of them, or when
 * nothing behavioural differs (then there is no drift to heal).
 */
export function resyncCannotHeal(differences: readonly Difference[]): string | null {
  const seen = new Set<"other" | "backend" | "mixed">();
  for (const d of differences) {
    if (d.severity === "info") continue;
    if (healedByResync(d)) return null;
    seen.add(
      d.kind === "backend-conflict" ? "backend" : d.kind === "mixed-families" ? "mixed" : "other",
    );
  }
  if (seen.has("other") && seen.has("backend")) return RESYNC_CANNOT_HEAL.both;
  // A Windows node's kinds (mixed) and a Linux node's never meet.
  for (const why of ["backend", "other", "mixed"] as const)
    if (seen.has(why)) return RESYNC_CANNOT_HEAL[why];
  return null;
}

/** Folds differences (of every family) into a status and a one-line summary. */
export function driftReport(differences: Difference[]): DriftReport {
  const sorted = sortDifferences(differences);
  const behavioural = sorted.filter((x) => x.severity !== "info");
  const status: DriftStatus = behavioural.length > 0 ? "drifted" : "in-sync";
  const summary =
    behavioural.length === 0
      ? sorted.length > 0
        ? "in sync (cosmetic differences)"
        : "in sync"
      : summarize(behavioural);
  return {
    status,
    cosmetic: status === "in-sync" && sorted.length > 0,
    differences: sorted,
    summary,
  };
}

function summarize(diffs: Difference[]): string {
  const parts: string[] = [];
  const missing = diffs.filter((x) => x.kind === "missing-cidr").map((x) => x.cidr);
  const unexpected = diffs.filter((x) => x.kind === "unexpected-cidr").map((x) => x.cidr);
  if (missing.length)
    parts.push(
      `missing ${missing.slice(0, 2).join(", ")}${missing.length > 2 ? ` +${missing.length - 2}` : ""}`,
    );
  if (unexpected.length)
    parts.push(
      `extra ${unexpected.slice(0, 2).join(", ")}${unexpected.length > 2 ? ` +${unexpected.length - 2}` : ""}`,
    );
  for (const x of diffs) {
    if (x.kind === "missing-cidr" || x.kind === "unexpected-cidr") continue;
    const label = LABELS[x.kind];
    if (!parts.includes(label)) parts.push(label);
  }
  return parts.join(", ");
}

const LABELS: Record<DriftKind, string> = {
  "chain-missing": "chain missing",
  "jump-missing": "jump missing",
  "jump-duplicate": "duplicate jump",
  "jump-modified": "jump modified",
  "jump-shadowed": "jump shadowed",
  "masqueraded-after": "masqueraded after the chain",
  "missing-cidr": "missing CIDR",
  "unexpected-cidr": "extra CIDR",
  "exception-missing": "masqueradeCIDRs rule missing",
  "exception-shadowed": "masqueradeCIDRs rule behind a RETURN",
  "masquerade-missing": "MASQUERADE missing",
  "masquerade-not-last": "MASQUERADE not last",
  "masquerade-options": "MASQUERADE options differ",
  "foreign-rule": "foreign rule",
  "stale-rule": "rule of another config",
  unreadable: "unreadable rules",
  "backend-conflict": "conflict with the other iptables backend",
  cosmetic: "cosmetic",
  "policy-missing": "OutBoundNAT policy missing",
  "ipv6-ignored": "IPv6 not managed",
  "mixed-families": "IPv4 and IPv6 in one list",
};
