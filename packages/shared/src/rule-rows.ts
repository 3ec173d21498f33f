// Desired vs actual chain of one family, rule by rule, for people: each rule described in
// words, the two sides aligned (same behaviour on one line), every difference explained with
// the drift engine's own Difference. The node's side is the assessment's analysis; nothing
// about the node is analysed again here.

import type { ChainEntry } from "./analysis/chain.js";
import { analyzeFamily } from "./analysis/ruleset.js";
import type { FamilyAnalysis } from "./analysis/types.js";
import type { FamilyAssessment } from "./assess.js";
import { desiredListedLines } from "./desired-memo.js";
import type { Difference, DriftKind } from "./drift.js";
import { LINK_LOCAL_CIDR, LINK_LOCAL_CIDR_IPV6 } from "./masquerade-decision.js";
import { behaviourKey } from "./parser.js";
import { type DesiredChain, jumpRuleLine } from "./rules.js";

export type RowState =
  | "same"
  | "cosmetic"
  | "moved"
  | "missing"
  | "unexpected"
  | "covered"
  | "unreachable";

export interface RuleView {
  /** 0-based position in its chain; absent for an element of an nft set, which has no order. */
  index?: number;
  /** The rule as iptables prints it. */
  text: string;
  /** What it does, in a few words: "10.0.0.0/8 keeps pod IP". */
  title: string;
  /** Its limits: "tcp only · written by an older agent". */
  detail?: string;
  role: ChainEntry["role"];
}

export interface CompareRow {
  state: RowState;
  desired?: RuleView;
  actual?: RuleView;
  /** Why the row matters: the difference's impact when drift names one. */
  explanation?: string;
  /** The drift engine's difference this row shows. */
  difference?: Difference;
}

function isLinkLocal(canonical: string | undefined): boolean {
  return canonical === LINK_LOCAL_CIDR || canonical === LINK_LOCAL_CIDR_IPV6;
}

function masqueradeTitle(e: ChainEntry, cidr: string | undefined): string {
  const opts: string[] = [];
  if (e.toPorts) opts.push(`to ports ${e.toPorts}`);
  if (e.randomFully) opts.push("random-fully");
  const how = opts.length > 0 ? ` (${opts.join(", ")})` : "";
  if (cidr && e.ownComment) return `${cidr} is masqueraded (masqueradeCIDRs)${how}`;
  if (cidr) return `traffic ${e.negated ? "not " : ""}to ${cidr} is masqueraded${how}`;
  if (e.protocol || e.probability !== undefined)
    return `${e.protocol ?? "some"} traffic is masqueraded${how}`;
  return `everything else is masqueraded${how}`;
}

/** What limits a rule besides its destination: protocol, share of flows, conditions, age. */
function entryDetail(e: ChainEntry): string | undefined {
  const extra: string[] = [];
  if (e.protocol) extra.push(`${e.protocol} only`);
  if (e.probability !== undefined) extra.push(`${(e.probability * 100).toFixed(1)}% of flows`);
  if (e.conditions.length > 0) extra.push(`only when ${e.conditions.join(", ")}`);
  if (e.legacy) extra.push("written by an older agent");
  return extra.length > 0 ? extra.join(" · ") : undefined;
}

function returnTitle(e: ChainEntry, cidr: string | undefined): string {
  if (!cidr) return "all traffic keeps pod IP";
  if (e.negated) return `everything except ${cidr} keeps pod IP`;
  return `${cidr}${isLinkLocal(cidr) ? " (link-local)" : ""} keeps pod IP`;
}

function foreignTitle(e: ChainEntry, cidr: string | undefined): string {
  const target = e.rule.target
    ? `${e.rule.goto ? "goes to" : "jumps to"} ${e.rule.target}`
    : "has no target";
  const dst = cidr ? `traffic ${e.negated ? "not " : ""}to ${cidr} ` : "";
  return `foreign rule: ${dst}${target}`;
}

/** One rule in a few words: "10.0.0.0/8 keeps pod IP", "everything else is masqueraded". */
export function describeEntry(e: ChainEntry): { title: string; detail?: string } {
  const detail = entryDetail(e);
  const cidr = e.cidr?.canonical;
  if (e.role === "return") return { title: returnTitle(e, cidr), detail };
  if (e.role === "masquerade") return { title: masqueradeTitle(e, cidr), detail };
  return { title: foreignTitle(e, cidr), detail };
}

/** Longest common subsequence alignment of two key lists. */
export function align(
  a: readonly string[],
  b: readonly string[],
): [number | null, number | null][] {
  const n = a.length;
  const m = b.length;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    }
  }
  const out: [number | null, number | null][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) out.push([i++, j++]);
    else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) out.push([i++, null]);
    else out.push([null, j++]);
  }
  while (i < n) out.push([i++, null]);
  while (j < m) out.push([null, j++]);
  return out;
}

/**
 * The chain the config wants, analysed as if a node had exactly it (with upstream's jump):
 * the desired side of the rows and of `evaluate`. Read as a node lists it, so each rule's text
 * is the one the node's side shows for the same rule, not upstream's payload order.
 */
export function desiredAnalysis(d: DesiredChain): FamilyAnalysis {
  return analyzeFamily({
    family: d.family,
    chain: d.chain,
    chainText: desiredListedLines(d).join("\n"),
    postroutingText: jumpRuleLine(d.chain),
  });
}

/** Rules that do the same thing share a key; a legacy RETURN aligns with the agent's own. */
function keyOf(e: ChainEntry): string {
  if (e.role === "return" && e.cidr) {
    return `R|${e.negated ? "!" : ""}${e.cidr.canonical}|${e.conditions.join(";")}|${e.protocol ?? ""}|${e.probability ?? ""}`;
  }
  return behaviourKey(e.rule);
}

function view(e: ChainEntry): RuleView {
  const d = describeEntry(e);
  return { index: e.index, text: e.rule.text, title: d.title, detail: d.detail, role: e.role };
}

/** The rows' context: the family's differences and which keys only one side has. */
interface Ctx {
  diffs: readonly Difference[];
  chainExists: boolean;
  unreachable: ReadonlySet<number>;
  onlyActual: ReadonlySet<string>;
  onlyDesired: ReadonlySet<string>;
}

function find(
  c: Ctx,
  kind: DriftKind,
  pred: (d: Difference) => boolean = () => true,
): Difference | undefined {
  return c.diffs.find((d) => d.kind === kind && pred(d));
}

function pairedRow(de: ChainEntry, ae: ChainEntry): CompareRow {
  // iptables prints matches in its own order: compare behaviour and comment, not text.
  const same =
    de.rule.text === ae.rule.text ||
    (behaviourKey(de.rule) === behaviourKey(ae.rule) && de.rule.comment === ae.rule.comment);
  return {
    state: same ? "same" : "cosmetic",
    desired: view(de),
    actual: view(ae),
    explanation: same ? undefined : "Same behaviour, different text (comment or option order).",
  };
}

/** A masqueradeCIDRs exception's own difference (its rule dead behind a RETURN, or absent). */
function exceptionDifference(c: Ctx, e: ChainEntry): Difference | undefined {
  const cidr = e.cidr?.canonical;
  if (!cidr || e.negated) return undefined;
  // A RETURN behind an exception that contains it decides nothing: drift names it missing.
  if (e.role === "return") return find(c, "missing-cidr", (x) => x.cidr === cidr);
  if (e.role !== "masquerade") return undefined;
  const mine = (x: Difference) => x.cidr === cidr;
  return (
    find(c, "exception-shadowed", mine) ??
    find(c, "exception-missing", mine) ??
    find(c, "masquerade-options", mine)
  );
}

function desiredOnlyRow(c: Ctx, de: ChainEntry): CompareRow {
  const exception = exceptionDifference(c, de);
  // Order matters for exceptions: "at another position" can mean "never applies".
  if (exception)
    return {
      state: c.onlyActual.has(keyOf(de)) ? "moved" : "missing",
      desired: view(de),
      difference: exception,
      explanation: exception.impact ?? exception.message,
    };
  if (c.onlyActual.has(keyOf(de)))
    return {
      state: "moved",
      desired: view(de),
      explanation: "Present on the node, at another position.",
    };
  const cidr = de.cidr?.canonical;
  const missing = cidr ? find(c, "missing-cidr", (x) => x.cidr === cidr) : undefined;
  // drift judges RETURNs by the destinations they cover: no missing-cidr means covered.
  if (de.role === "return" && !missing && c.chainExists)
    return {
      state: "covered",
      desired: view(de),
      explanation: "Not present as written, but other rules on the node give the same result.",
    };
  const masq =
    de.role === "masquerade"
      ? (find(c, "masquerade-missing") ?? find(c, "masquerade-options"))
      : undefined;
  const difference = missing ?? masq ?? (c.chainExists ? undefined : find(c, "chain-missing"));
  return {
    state: "missing",
    desired: view(de),
    difference,
    explanation: difference?.impact ?? difference?.message ?? "Missing on the node.",
  };
}

function actualOnlyRow(c: Ctx, ae: ChainEntry): CompareRow {
  if (c.unreachable.has(ae.index))
    return {
      state: "unreachable",
      actual: view(ae),
      difference: find(c, "masquerade-not-last"),
      explanation: "Comes after MASQUERADE: no packet ever reaches it.",
    };
  const exception = exceptionDifference(c, ae);
  if (c.onlyDesired.has(keyOf(ae)))
    return {
      state: "moved",
      actual: view(ae),
      ...(exception
        ? { difference: exception, explanation: exception.impact ?? exception.message }
        : { explanation: "Configured too, at another position." }),
    };
  const cidr = ae.cidr?.canonical;
  const difference =
    (cidr ? find(c, "unexpected-cidr", (x) => x.cidr === cidr) : undefined) ??
    find(c, "foreign-rule", (x) => x.rule === ae.rule.text) ??
    find(c, "stale-rule", (x) => x.rule === ae.rule.text) ??
    find(c, "masquerade-options", (x) => x.rule === ae.rule.text);
  if (ae.role === "return" && !difference && !ae.negated && ae.conditions.length === 0)
    return {
      state: "covered",
      actual: view(ae),
      explanation: "Not configured as written, but already covered by configured CIDRs: no effect.",
    };
  return {
    state: "unexpected",
    actual: view(ae),
    difference,
    explanation: difference?.impact ?? difference?.message ?? "Not part of the desired chain.",
  };
}

/**
 * The rows of one family: the desired chain (analysed by `desiredAnalysis`) next to the
 * node's chain as the assessment analysed it, each difference taken from the assessment.
 */
export function compareRows(f: FamilyAssessment, desired: FamilyAnalysis): CompareRow[] {
  const actual = f.observed;
  const dKeys = desired.entries.map(keyOf);
  const aKeys = actual.entries.map(keyOf);
  const pairs = align(dKeys, aKeys);
  const c: Ctx = {
    diffs: f.differences,
    chainExists: actual.chainExists,
    unreachable: new Set(actual.unreachable),
    onlyActual: new Set(pairs.filter(([i]) => i === null).map(([, j]) => aKeys[j!]!)),
    onlyDesired: new Set(pairs.filter(([, j]) => j === null).map(([i]) => dKeys[i!]!)),
  };
  return pairs.map(([i, j]) => {
    const de = i === null ? undefined : desired.entries[i];
    const ae = j === null ? undefined : actual.entries[j];
    if (de && ae) return pairedRow(de, ae);
    return de ? desiredOnlyRow(c, de) : actualOnlyRow(c, ae!);
  });
}
