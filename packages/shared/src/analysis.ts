// What a node's parsed IP-MASQ-AGENT chain and nat POSTROUTING actually do: which
// destinations return before MASQUERADE, whether POSTROUTING really reaches the chain, and
// evaluate(ip) → masqueraded or not, with the rule that decided it.
import {
  type Cidr,
  cidrContainsIp,
  type Family,
  type ParsedIp,
  parseCidr,
  parseIp,
} from "./cidr.js";
import {
  behaviourKey,
  clauseOf,
  getChain,
  type ParsedRule,
  type ParseError,
  parseIptables,
  type Ruleset,
  targetArg,
} from "./parser.js";
import {
  jumpRuleLine,
  LEGACY_NON_MASQ_RULE_COMMENT,
  MASQ_RULE_COMMENT,
  NAT_TABLE,
  NON_MASQ_RULE_COMMENT,
  POSTROUTING,
} from "./rules.js";

export type Tri = "yes" | "no" | "maybe";

export interface ChainEntry {
  index: number;
  rule: ParsedRule;
  role: "return" | "masquerade" | "foreign";
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
}

export interface JumpInfo {
  index: number;
  rule: ParsedRule;
  /** Same behaviour as upstream's jump (comment text may differ). */
  canonical: boolean;
  /** Exactly upstream's jump text. */
  exact: boolean;
  conditions: string[];
}

export interface Shadow {
  index: number;
  rule: ParsedRule;
  effect: "masquerade" | "accept" | "unknown";
  /** "all": hits every non-local destination; "some": only some; "maybe": depends on packet fields. */
  reach: "all" | "some" | "maybe";
}

export interface FamilyAnalysis {
  family: Family;
  chain: string;
  chainExists: boolean;
  entries: ChainEntry[];
  /** Destinations that certainly RETURN before the first unconditional MASQUERADE, in order. */
  returns: Cidr[];
  /** Index of the first unconditional MASQUERADE, if any. */
  finalMasquerade?: number;
  /** Entries after finalMasquerade, which no packet reaches. */
  unreachable: number[];
  jumps: JumpInfo[];
  /** POSTROUTING rules before the first jump that may keep packets from reaching it. */
  shadows: Shadow[];
  errors: ParseError[];
}

const CANONICAL_JUMP_KEYS = new Map<string, string>();
function canonicalJumpKey(chain: string): string {
  let key = CANONICAL_JUMP_KEYS.get(chain);
  if (key === undefined) {
    const rule = parseIptables(jumpRuleLine(chain)).ruleset.tables.get(NAT_TABLE)?.get(POSTROUTING)
      ?.rules[0];
    key = rule ? behaviourKey(rule) : "";
    CANONICAL_JUMP_KEYS.set(chain, key);
  }
  return key;
}

interface Conditions {
  dst?: { cidr: Cidr; negated: boolean };
  protocol?: string;
  probability?: number;
  /** Per-rule `addrtype ! --dst-type LOCAL` (true for every non-local destination). */
  nonLocal: boolean;
  other: string[];
  invalid?: string;
}

function destinationOf(rule: ParsedRule, family: Family): Conditions["dst"] | string | undefined {
  const d = clauseOf(rule, "", "-d");
  if (!d) return undefined;
  const text = d.args[0] ?? "";
  const withPrefix = text.includes("/") ? text : `${text}/${family === "ipv4" ? 32 : 128}`;
  const p = parseCidr(withPrefix);
  if (!p.ok) return `unreadable destination ${text}`;
  return { cidr: p.cidr, negated: d.negated };
}

/** Splits a rule's matches into what we can decide (destination) and what we cannot. */
function conditionsOf(rule: ParsedRule, family: Family): Conditions {
  const out: Conditions = { nonLocal: false, other: [] };
  const dst = destinationOf(rule, family);
  if (typeof dst === "string") out.invalid = dst;
  else out.dst = dst;
  for (const m of rule.matches) {
    for (const c of m.clauses) {
      if (m.module === "" && c.flag === "-d") continue;
      if (m.module === "comment") continue;
      // Protocol and probability are tracked in their own fields, not as extra conditions.
      if (m.module === "" && c.flag === "-p" && !c.negated) {
        out.protocol = c.args[0];
        continue;
      }
      if (m.module === "statistic" && c.flag === "--probability") {
        out.probability = Number(c.args[0]);
        continue;
      }
      if (m.module === "statistic" && c.flag === "--mode") continue;
      if (
        m.module === "addrtype" &&
        c.flag === "--dst-type" &&
        c.negated &&
        c.args[0] === "LOCAL"
      ) {
        out.nonLocal = true;
        continue;
      }
      const text = `${c.negated ? "! " : ""}${c.flag} ${c.args.join(" ")}`.trim();
      out.other.push(m.module ? `-m ${m.module} ${text}` : text);
    }
  }
  return out;
}

function classify(rule: ParsedRule, index: number, family: Family): ChainEntry {
  const cond = conditionsOf(rule, family);
  const conditions = cond.invalid ? [cond.invalid, ...cond.other] : cond.other;
  const base = {
    index,
    rule,
    negated: cond.dst?.negated ?? false,
    cidr: cond.dst?.cidr,
    conditions,
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
      ownComment: rule.comment === MASQ_RULE_COMMENT,
      protocol: cond.protocol,
      probability: cond.probability,
      toPorts: targetArg(rule, "--to-ports")?.args[0],
      randomFully: targetArg(rule, "--random-fully") !== undefined,
    };
  }
  return { ...base, role: "foreign", legacy: false, ownComment: false };
}

/** Does this rule certainly apply to every non-local destination (ignoring its -d)? */
function unconditional(e: ChainEntry): boolean {
  return e.conditions.length === 0 && e.protocol === undefined && e.probability === undefined;
}

function analyzeJumps(
  rules: ParsedRule[],
  chain: string,
  family: Family,
): { jumps: JumpInfo[]; shadows: Shadow[] } {
  const jumps: JumpInfo[] = [];
  const shadows: Shadow[] = [];
  const exactText = jumpRuleLine(chain);
  const key = canonicalJumpKey(chain);
  rules.forEach((rule, index) => {
    if (rule.target === chain) {
      const cond = conditionsOf(rule, family);
      const conditions = [
        ...(cond.dst ? [`${cond.dst.negated ? "! " : ""}-d ${cond.dst.cidr.canonical}`] : []),
        ...(cond.protocol ? [`-p ${cond.protocol}`] : []),
        ...(cond.probability !== undefined
          ? [`-m statistic --probability ${cond.probability}`]
          : []),
        ...cond.other,
      ];
      jumps.push({
        index,
        rule,
        canonical: behaviourKey(rule) === key,
        exact: rule.text === exactText,
        conditions,
      });
      return;
    }
    if (jumps.length > 0) return;
    const effect =
      rule.target === "MASQUERADE" || rule.target === "SNAT"
        ? "masquerade"
        : rule.target === "ACCEPT" || rule.target === "RETURN"
          ? "accept"
          : "unknown";
    const cond = conditionsOf(rule, family);
    const reach =
      cond.other.length > 0 || cond.protocol || cond.probability !== undefined
        ? "maybe"
        : cond.dst
          ? "some"
          : "all";
    shadows.push({ index, rule, effect, reach });
  });
  return { jumps, shadows };
}

export interface FamilyInput {
  family: Family;
  chain: string;
  /** `iptables -S CHAIN` text, or null when the chain does not exist. */
  chainText: string | null;
  postroutingText: string;
}

/** Analyses one family from the two `-S` outputs the reporter reads. */
export function analyzeFamily(input: FamilyInput): FamilyAnalysis {
  const text = `${input.chainText ?? ""}\n${input.postroutingText}`;
  const { ruleset, errors } = parseIptables(text, NAT_TABLE);
  const a = analyzeRuleset(ruleset, input.family, input.chain);
  if (input.chainText === null) a.chainExists = false;
  a.errors = errors;
  return a;
}

/** Analyses the nat table of a parsed iptables-save dump (or -S output). */
export function analyzeRuleset(ruleset: Ruleset, family: Family, chain: string): FamilyAnalysis {
  const own = getChain(ruleset, NAT_TABLE, chain);
  const postrouting = getChain(ruleset, NAT_TABLE, POSTROUTING)?.rules ?? [];
  const entries = (own?.rules ?? []).map((r, i) => classify(r, i, family));
  const returns: Cidr[] = [];
  let finalMasquerade: number | undefined;
  for (const e of entries) {
    if (e.role === "masquerade" && unconditional(e) && !e.cidr) {
      finalMasquerade = e.index;
      break;
    }
    if (e.role === "return" && unconditional(e) && e.cidr && !e.negated) returns.push(e.cidr);
  }
  const unreachable =
    finalMasquerade === undefined ? [] : entries.slice(finalMasquerade + 1).map((e) => e.index);
  const { jumps, shadows } = analyzeJumps(postrouting, chain, family);
  return {
    family,
    chain,
    chainExists: own !== undefined,
    entries,
    returns,
    finalMasquerade,
    unreachable,
    jumps,
    shadows,
    errors: [],
  };
}

export interface Verdict {
  ip: string;
  masqueraded: boolean;
  /** False when the answer depends on packet fields we cannot know (protocol, marks, source). */
  certain: boolean;
  decidedBy?: { chain: string; index: number; text: string };
  reason: string;
  caveats: string[];
}

function matchesDst(e: { cidr?: Cidr; negated: boolean }, ip: ParsedIp): boolean {
  if (!e.cidr) return true;
  const inside = cidrContainsIp(e.cidr, ip);
  return e.negated ? !inside : inside;
}

function ruleRef(chain: string, index: number, rule: ParsedRule) {
  return { chain, index, text: rule.text };
}

type Outcome = "masquerade" | "return" | "unknown";

interface Walk {
  caveats: string[];
  /** Outcomes of rules that apply only to some packets, seen before the decision. */
  conditional: Outcome[];
}

function decided(
  ip: ParsedIp,
  walk: Walk,
  masqueraded: boolean,
  decidedBy: Verdict["decidedBy"],
  reason: string,
): Verdict {
  const outcome: Outcome = masqueraded ? "masquerade" : "return";
  // A conditional rule with the same outcome (e.g. --to-ports MASQUERADE rules before the
  // catch-all MASQUERADE) does not make the answer uncertain.
  const certain = walk.conditional.every((o) => o === outcome);
  return { ip: ip.text, masqueraded, certain, decidedBy, reason, caveats: walk.caveats };
}

function describeConditions(e: ChainEntry): string {
  return [
    ...(e.protocol ? [`-p ${e.protocol}`] : []),
    ...(e.probability !== undefined ? ["a random share"] : []),
    ...e.conditions,
  ].join(", ");
}

/** Walks the chain for one destination. Returns undefined when the chain returns. */
function walkChain(a: FamilyAnalysis, ip: ParsedIp, walk: Walk): Verdict | undefined {
  for (const e of a.entries) {
    if (!matchesDst(e, ip)) continue;
    const outcome: Outcome =
      e.role === "return" ? "return" : e.role === "masquerade" ? "masquerade" : "unknown";
    if (!unconditional(e) || e.role === "foreign") {
      const what =
        e.role === "foreign"
          ? `jumps to ${e.rule.target ?? "nothing"}`
          : `applies only to some packets (${describeConditions(e)})`;
      walk.caveats.push(`rule ${e.index + 1} of ${a.chain} ${what}`);
      walk.conditional.push(outcome);
      continue;
    }
    const by = ruleRef(a.chain, e.index, e.rule);
    if (e.role === "return")
      return decided(
        ip,
        walk,
        false,
        by,
        `${ip.text} is in ${e.cidr?.canonical ?? "every destination"}, which returns before MASQUERADE: not masqueraded`,
      );
    return decided(
      ip,
      walk,
      true,
      by,
      `no non-masquerade rule matches ${ip.text}; rule ${e.index + 1} of ${a.chain} masquerades it`,
    );
  }
  return undefined;
}

/** Would traffic from a pod to `ipText` leave this node masqueraded (by this agent's rules)? */
export function evaluate(a: FamilyAnalysis, ipText: string): Verdict | { error: string } {
  const ip = parseIp(ipText);
  if (!ip) return { error: `"${ipText}" is not an IP address` };
  if (ip.family !== a.family)
    return { error: `${ipText} is ${ip.family}; these rules are ${a.family}` };
  const walk: Walk = { caveats: [], conditional: [] };
  for (const s of a.shadows) {
    const e = classify(s.rule, s.index, a.family);
    if (!matchesDst(e, ip)) continue;
    if (s.effect === "unknown") {
      walk.caveats.push(
        `POSTROUTING rule ${s.index + 1} first jumps to ${s.rule.target ?? "nothing"} (not inspected)`,
      );
      continue;
    }
    if (s.reach === "maybe") {
      walk.caveats.push(
        `POSTROUTING rule ${s.index + 1} (${s.rule.target}) comes first and applies to some packets`,
      );
      walk.conditional.push(s.effect === "masquerade" ? "masquerade" : "return");
      continue;
    }
    const masqueraded = s.effect === "masquerade";
    return decided(
      ip,
      walk,
      masqueraded,
      ruleRef(POSTROUTING, s.index, s.rule),
      `POSTROUTING rule ${s.index + 1} ${masqueraded ? "masquerades" : "accepts"} ${ip.text} before the jump to ${a.chain}`,
    );
  }
  const jump = a.jumps.find((j) => matchesDst(classify(j.rule, j.index, a.family), ip));
  if (!jump)
    return decided(
      ip,
      walk,
      false,
      undefined,
      `POSTROUTING never jumps to ${a.chain} for ${ip.text}, so the agent does not masquerade it`,
    );
  if (!a.chainExists)
    return decided(
      ip,
      walk,
      false,
      ruleRef(POSTROUTING, jump.index, jump.rule),
      `POSTROUTING jumps to ${a.chain}, but that chain does not exist`,
    );
  if (jump.conditions.some((c) => !c.startsWith("-d ") && !c.startsWith("! -d "))) {
    walk.caveats.push(`the jump to ${a.chain} has extra conditions: ${jump.conditions.join(", ")}`);
    walk.conditional.push("return");
  }
  return (
    walkChain(a, ip, walk) ??
    decided(
      ip,
      walk,
      false,
      undefined,
      `${a.chain} returns without masquerading ${ip.text} (it has no final MASQUERADE rule)`,
    )
  );
}
