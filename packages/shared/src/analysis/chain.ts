// The agent's chain rule by rule: what each rule is (a RETURN before MASQUERADE, a MASQUERADE,
// something else), which destinations certainly return, and where the final MASQUERADE is.
// iptables prints no `-d` for a rule on every destination (`-d 0.0.0.0/0` and `-d ::/0` are left
// out), so a RETURN without `-d` returns the whole family.
import {
  type Cidr,
  cidrLast,
  type Family,
  iptablesAddress,
  parseCidr,
  type Range,
} from "../cidr.js";
import { type Clause, clauseOf, type ParsedRule, targetArg } from "../parser.js";
import { compileRule } from "../path/matches.js";
import {
  cidrRange,
  fullRange,
  type RangeSet,
  rangeToCidrs,
  subtractRange,
} from "../path/range-set.js";
import {
  EXCEPTION_MASQ_RULE_COMMENT,
  LEGACY_NON_MASQ_RULE_COMMENT,
  MASQ_RULE_COMMENT,
  NON_MASQ_RULE_COMMENT,
} from "../rules.js";

/**
 * What a rule of the agent's chain does, as analysed: `return` keeps the pod IP (RETURN),
 * `masquerade` rewrites it (MASQUERADE), `foreign` is neither (another target, or a rule not
 * understood). Listed at runtime so every reader (the node page's words) covers each one.
 */
export const RULE_ROLES = ["return", "masquerade", "foreign"] as const;
export type RuleRole = (typeof RULE_ROLES)[number];

export interface ChainEntry {
  index: number;
  rule: ParsedRule;
  role: RuleRole;
  /** Destination of a RETURN/MASQUERADE (undefined = any destination). */
  cidr?: Cidr;
  negated: boolean;
  /** Conditions other than the destination that we cannot decide statically. */
  conditions: string[];
  /** Written by an older agent (legacy comment or per-rule addrtype). */
  legacy: boolean;
  /** Comment is one the agent writes for this role. */
  ownComment: boolean;
  protocol?: string;
  probability?: number;
  toPorts?: string;
  randomFully?: boolean;
  /** Why no packet matches this rule (e.g. `! -d 0.0.0.0/0`), if so. */
  matchesNothing?: string;
}

export interface Conditions {
  dst?: { cidr: Cidr; negated: boolean };
  protocol?: string;
  probability?: number;
  /** Per-rule `addrtype ! --dst-type LOCAL` (true for every non-local destination). */
  nonLocal: boolean;
  other: string[];
  invalid?: string;
}

/** The whole family: what a rule without `-d` matches. */
export function familyCidr(family: Family): Cidr {
  const p = parseCidr(family === "ipv4" ? "0.0.0.0/0" : "::/0");
  if (!p.ok) throw new Error("unreachable: the family's default route parses");
  return p.cidr;
}

/** Is `-s`/`-d` with this argument a match on every address (`0.0.0.0/0`, `::/0`)? */
function everyAddress(text: string, family: Family): boolean {
  return iptablesAddress(text, family)?.prefix === 0;
}

function destinationOf(rule: ParsedRule, family: Family): Conditions["dst"] | string | undefined {
  const d = clauseOf(rule, "", "-d");
  if (!d) return undefined;
  const text = d.args[0] ?? "";
  const cidr = iptablesAddress(text, family);
  if (!cidr) return `unreadable destination ${text}`;
  if (cidr.prefix === 0 && !d.negated) return undefined;
  return { cidr, negated: d.negated };
}

/**
 * Clauses that are no condition: the destination (a field of its own), comments, statistic's
 * `--mode`, and matches on everything, which iptables itself would not print.
 */
function isNoCondition(module: string, c: Clause, family: Family): boolean {
  if (module === "comment") return true;
  if (module === "statistic") return c.flag === "--mode";
  if (module !== "") return false;
  if (c.flag === "-d") return true;
  if (c.negated) return false;
  if (c.flag === "-s") return everyAddress(c.args[0] ?? "", family);
  return c.flag === "-p" && c.args[0] === "all";
}

/**
 * Protocol, probability and a per-rule `addrtype ! --dst-type LOCAL` are tracked in their own
 * fields, not as extra conditions: records `c` there and says whether it was one of them.
 */
function trackInField(out: Conditions, module: string, c: Clause): boolean {
  if (module === "" && c.flag === "-p" && !c.negated) out.protocol = c.args[0];
  else if (module === "statistic" && c.flag === "--probability")
    out.probability = Number(c.args[0]);
  else if (module === "addrtype" && c.flag === "--dst-type" && c.negated && c.args[0] === "LOCAL")
    out.nonLocal = true;
  else return false;
  return true;
}

/** A clause as the condition text the reports show, e.g. `-m mark ! --mark 0x1`. */
function conditionText(module: string, c: Clause): string {
  const text = `${c.negated ? "! " : ""}${c.flag} ${c.args.join(" ")}`.trim();
  return module ? `-m ${module} ${text}` : text;
}

/** Splits a rule's matches into what we can decide (destination) and what we cannot. */
export function conditionsOf(rule: ParsedRule, family: Family): Conditions {
  const out: Conditions = { nonLocal: false, other: [] };
  const dst = destinationOf(rule, family);
  if (typeof dst === "string") out.invalid = dst;
  else out.dst = dst;
  for (const m of rule.matches)
    for (const c of m.clauses)
      if (!isNoCondition(m.module, c, family) && !trackInField(out, m.module, c))
        out.other.push(conditionText(m.module, c));
  return out;
}

export function classify(rule: ParsedRule, index: number, family: Family): ChainEntry {
  const cond = conditionsOf(rule, family);
  if (rule.unreadable !== undefined) cond.other.push(`could not be read: ${rule.unreadable}`);
  const conditions = cond.invalid ? [cond.invalid, ...cond.other] : cond.other;
  const base = {
    index,
    rule,
    negated: cond.dst?.negated ?? false,
    cidr: cond.dst?.cidr,
    conditions,
    matchesNothing: compileRule(rule, family).matchesNothing,
    // A protocol or a random share limits a RETURN as much as a MASQUERADE.
    protocol: cond.protocol,
    probability: cond.probability,
  };
  const legacy = cond.nonLocal || rule.comment === LEGACY_NON_MASQ_RULE_COMMENT;
  if (rule.target === "RETURN" && !rule.goto && rule.targetArgs.length === 0) {
    const own =
      rule.comment === NON_MASQ_RULE_COMMENT || rule.comment === LEGACY_NON_MASQ_RULE_COMMENT;
    return { ...base, role: "return", legacy, ownComment: own };
  }
  if (rule.target === "MASQUERADE") {
    const unknownArgs = rule.targetArgs.filter(
      (c) => !["--random-fully", "--to-ports", "--random"].includes(c.flag),
    );
    return {
      ...base,
      conditions: [
        ...conditions,
        ...unknownArgs.map((c) => `${c.flag} ${c.args.join(" ")}`.trim()),
      ],
      role: "masquerade",
      legacy: cond.nonLocal,
      ownComment:
        rule.comment ===
        (cond.dst && !cond.dst.negated ? EXCEPTION_MASQ_RULE_COMMENT : MASQ_RULE_COMMENT),
      protocol: cond.protocol,
      probability: cond.probability,
      toPorts: targetArg(rule, "--to-ports")?.args[0],
      randomFully: targetArg(rule, "--random-fully") !== undefined,
    };
  }
  return { ...base, role: "foreign", legacy: false, ownComment: false };
}

/** Does this rule certainly apply to every non-local destination (ignoring its -d)? */
export function unconditional(e: ChainEntry): boolean {
  return e.conditions.length === 0 && e.protocol === undefined && e.probability === undefined;
}

/** The destinations an unconditional rule matches (a negated `-d`: the rest). */
function matchedSet(e: ChainEntry, family: Family): RangeSet {
  if (e.matchesNothing) return [];
  if (!e.cidr) return [fullRange(family)];
  if (!e.negated) return [cidrRange(e.cidr)];
  return subtractRange([fullRange(family)], cidrRange(e.cidr));
}

/** The rule's own block when it returns all of it (the common case: no text round trip). */
function wholeBlock(e: ChainEntry, set: RangeSet): Cidr[] | undefined {
  const only = set.length === 1 ? set[0]! : undefined;
  if (!only || !e.cidr || e.negated) return undefined;
  return only.first === e.cidr.network && only.last === cidrLast(e.cidr) ? [e.cidr] : undefined;
}

const cidrsOf = (set: RangeSet, family: Family): Cidr[] =>
  set.flatMap((r) => rangeToCidrs(family, r)).flatMap((t) => iptablesAddress(t, family) ?? []);

/**
 * The first match decides: walking the chain in order, each unconditional RETURN, and each
 * unconditional MASQUERADE with a destination (a masqueradeCIDRs exception), decides what no
 * earlier rule decided (`set`, empty for a rule earlier rules hide). Stops at the final
 * MASQUERADE.
 */
export function firstMatchDecisions(
  entries: readonly ChainEntry[],
  family: Family,
): { index: number; masquerade: boolean; set: RangeSet }[] {
  const decided: Range[] = [];
  const out: { index: number; masquerade: boolean; set: RangeSet }[] = [];
  for (const e of entries) {
    if (e.matchesNothing || !unconditional(e)) continue;
    if (e.role === "masquerade" && !e.cidr) break;
    if (e.role !== "return" && e.role !== "masquerade") continue;
    const set = matchedSet(e, family).flatMap((r) => claim(decided, r));
    out.push({ index: e.index, masquerade: e.role === "masquerade", set });
  }
  return out;
}

/**
 * The parts of `r` not in `decided` (sorted, disjoint), which then takes `r` in: O(log n + k)
 * plus one splice, so a chain of thousands of RETURNs stays fast.
 */
function claim(decided: Range[], r: Range): Range[] {
  let lo = 0;
  let hi = decided.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (decided[mid]!.last < r.first) lo = mid + 1;
    else hi = mid;
  }
  const free: Range[] = [];
  let cursor = r.first;
  let j = lo;
  for (; j < decided.length && decided[j]!.first <= r.last; j++) {
    const d = decided[j]!;
    if (d.first > cursor) free.push({ first: cursor, last: d.first - 1n });
    if (d.last + 1n > cursor) cursor = d.last + 1n;
  }
  if (cursor <= r.last) free.push({ first: cursor, last: r.last });
  const first = lo < j && decided[lo]!.first < r.first ? decided[lo]!.first : r.first;
  const last = j > lo && decided[j - 1]!.last > r.last ? decided[j - 1]!.last : r.last;
  decided.splice(lo, j - lo, { first, last });
  return free;
}

/** The destinations each RETURN returns, first match deciding (firstMatchDecisions). */
export function firstMatchReturns(
  entries: readonly ChainEntry[],
  family: Family,
): { index: number; set: RangeSet }[] {
  return firstMatchDecisions(entries, family).filter((d) => !d.masquerade);
}

/** What one decisive rule decides, first match deciding (firstMatchDecisions). */
export interface FirstMatch {
  index: number;
  masquerade: boolean;
  set: RangeSet;
}

export interface ChainSummary {
  entries: ChainEntry[];
  /** Each unconditional RETURN and masqueradeCIDRs MASQUERADE with what it decides, in order. */
  decisions: FirstMatch[];
  returns: Cidr[];
  finalMasquerade?: number;
  unreachable: number[];
}

/** The agent chain's rules, the destinations that certainly return, and the final MASQUERADE. */
export function summarizeChain(rules: readonly ParsedRule[], family: Family): ChainSummary {
  const entries = rules.map((r, i) => classify(r, i, family));
  const decisions = firstMatchDecisions(entries, family);
  const returns = decisions
    .filter((r) => !r.masquerade)
    .flatMap((r) => wholeBlock(entries[r.index]!, r.set) ?? cidrsOf(r.set, family));
  let finalMasquerade: number | undefined;
  for (const e of entries) {
    if (e.matchesNothing) continue;
    if (e.role === "masquerade" && unconditional(e) && !e.cidr) {
      finalMasquerade = e.index;
      break;
    }
  }
  const unreachable =
    finalMasquerade === undefined ? [] : entries.slice(finalMasquerade + 1).map((e) => e.index);
  return { entries, decisions, returns, finalMasquerade, unreachable };
}
