// A rule's matches as tests on a packet: the ones the path evaluator can decide from what it
// knows (addresses, protocol, destination port, mark) and the rest as opaque conditions keyed
// by their text (interfaces, conntrack, sets, statistic, …). Compiled once per rule.
import { type Family, iptablesAddress, type Range } from "../cidr.js";
import type { Clause, MatchBlock, ParsedRule } from "../parser.js";
import { type MarkTest, markNeverMatches, parseMarkTest } from "./marks.js";
import { protocolNumber } from "./packet.js";
import { cidrRange, fullRange, type RangeSet } from "./range-set.js";

export type Test =
  | { kind: "address"; field: "source" | "destination"; range: Range; text: string }
  /** Membership of a set of addresses (an nftables set or anonymous set: `ip daddr @S`). */
  | { kind: "address-set"; field: "source" | "destination"; ranges: RangeSet; text: string }
  | { kind: "protocol"; protocol: number; text: string }
  /** One of several protocols (nft `meta l4proto { tcp, udp, sctp }`). */
  | { kind: "protocols"; protocols: readonly number[]; text: string }
  | { kind: "port"; ranges: [number, number][]; text: string }
  | { kind: "mark"; mark: MarkTest; text: string }
  /** Taken as true: the pod-to-remote question is about destinations that are not local. */
  | { kind: "non-local"; text: string }
  /** `module`: the match module ("" for built-in matches), whose state targets may change. */
  | { kind: "opaque"; key: string; text: string; module?: string };

/** A test the rule requires, with `negated` when the rule requires it to fail. */
export interface RuleTest {
  test: Test;
  negated: boolean;
}

export interface CompiledRule {
  tests: RuleTest[];
  /** Why no packet can match (e.g. `! -d 0.0.0.0/0`), if so. */
  matchesNothing?: string;
}

const IPV4_MASK = /^(\d{1,3}\.){3}\d{1,3}$/;

/** An iptables address argument (`10.0.0.0/8`, `10.1.2.3`, `10.0.0.0/255.0.0.0`) as a range. */
export function addressRange(text: string, family: Family): Range | undefined {
  const [addr, mask] = text.split("/");
  if (addr === undefined) return undefined;
  let prefix: string = mask ?? (family === "ipv4" ? "32" : "128");
  if (mask !== undefined && family === "ipv4" && IPV4_MASK.test(mask)) {
    const bits = mask.split(".").reduce((v, o) => v * 256 + Number(o), 0);
    const ones = bits.toString(2).replace(/0+$/, "");
    if (ones.includes("0") || bits > 0xffffffff) return undefined; // non-contiguous masks
    prefix = String(bits === 0 ? 0 : ones.length);
  }
  const c = iptablesAddress(`${addr}/${prefix}`, family);
  return c ? cidrRange(c) : undefined;
}

function clauseText(module: string, c: Clause): string {
  const body = `${c.flag} ${c.args.join(" ")}`.trim();
  return module ? `-m ${module} ${body}` : body;
}

function opaque(module: string, c: Clause): Test {
  const text = clauseText(module, c);
  return { kind: "opaque", key: text, text, module };
}

/** `53`, `1024:65535`, `80,443,8000:8080` as inclusive ranges. */
function parsePorts(text: string): [number, number][] | undefined {
  const out: [number, number][] = [];
  for (const part of text.split(",")) {
    const [a, b] = part.split(":");
    const first = a === "" ? 0 : Number(a);
    const last = b === undefined ? first : b === "" ? 65535 : Number(b);
    if (!Number.isInteger(first) || !Number.isInteger(last) || first > last || last > 65535)
      return undefined;
    out.push([first, last]);
  }
  return out;
}

function portTest(module: string, c: Clause): Test {
  const ranges = parsePorts(c.args[0] ?? "");
  if (!ranges || c.args.length !== 1) return opaque(module, c);
  return { kind: "port", ranges, text: `dport ${c.args[0]}` };
}

/** `-s`/`-d`: an address range; every address (not negated) holds for every packet. */
function addressTest(c: Clause, family: Family): Test | "any" {
  const range = addressRange(c.args[0] ?? "", family);
  if (!range || c.args.length !== 1) return opaque("", c);
  const whole = fullRange(family);
  if (range.first === whole.first && range.last === whole.last && !c.negated) return "any";
  const field = c.flag === "-s" ? "source" : "destination";
  return { kind: "address", field, range, text: c.args[0]! };
}

/** `-p`: a protocol; `all` (not negated) holds for every packet. */
function protocolTest(c: Clause): Test | "any" {
  const p = protocolNumber(c.args[0] ?? "");
  if (p === undefined || c.args.length !== 1) return opaque("", c);
  if (p === 0 && !c.negated) return "any";
  return { kind: "protocol", protocol: p, text: c.args[0]! };
}

function builtinTest(c: Clause, family: Family): Test | "any" {
  if (c.flag === "-s" || c.flag === "-d") return addressTest(c, family);
  if (c.flag === "-p") return protocolTest(c);
  if ((c.flag === "-o" || c.flag === "-i") && c.args[0] === "+" && !c.negated) return "any";
  return opaque("", c);
}

/** Match modules whose `--dport` is the destination port. */
const PORT_MODULES: ReadonlySet<string> = new Set(["tcp", "udp", "sctp", "udplite", "dccp"]);

function markTest(c: Clause): Test {
  const mark = parseMarkTest(c.args[0] ?? "");
  return mark && c.args.length === 1 ? { kind: "mark", mark, text: c.args[0]! } : opaque("mark", c);
}

/** `-m iprange --src-range|--dst-range A-B`. */
function ipRangeTest(c: Clause, family: Family): Test {
  const [a, b] = (c.args[0] ?? "").split("-");
  const first = addressRange(a ?? "", family);
  const last = addressRange(b ?? "", family);
  if (!first || !last || first.first > last.first) return opaque("iprange", c);
  return {
    kind: "address",
    field: c.flag === "--src-range" ? "source" : "destination",
    range: { first: first.first, last: last.first },
    text: c.args[0]!,
  };
}

/** `-m addrtype --dst-type LOCAL`. */
function isLocalDestination(c: Clause): boolean {
  return c.flag === "--dst-type" && c.args.length === 1 && c.args[0] === "LOCAL";
}

function moduleTest(module: string, c: Clause, family: Family): Test | "any" {
  if (module === "addrtype" && isLocalDestination(c))
    return { kind: "non-local", text: "-m addrtype --dst-type LOCAL" };
  if (PORT_MODULES.has(module) && c.flag === "--dport") return portTest(module, c);
  if (module === "multiport" && c.flag === "--dports") return portTest(module, c);
  if (module === "mark" && c.flag === "--mark") return markTest(c);
  if (module === "iprange" && (c.flag === "--dst-range" || c.flag === "--src-range"))
    return ipRangeTest(c, family);
  return opaque(module, c);
}

/** Per rule and family: one parsed rule may be analysed in both (its addresses test differently). */
const cache = new WeakMap<ParsedRule, Partial<Record<Family, CompiledRule>>>();

/**
 * Matches whose answer changes from packet to packet or rule to rule (random draws, rate and
 * byte counters, clocks, per-rule lists): one rule's result says nothing about another's, so
 * their condition is keyed per rule, never shared (iptables-extensions(8)).
 */
const STATEFUL_MODULES: ReadonlySet<string> = new Set([
  "statistic",
  "limit",
  "hashlimit",
  "quota",
  "quota2",
  "connlimit",
  "recent",
  "connbytes",
  "time",
  "nth",
  "random",
]);
let nextRuleId = 0;

/** A stateful module's tests, re-keyed so that they belong to this rule alone. */
function perRule(tests: RuleTest[]): RuleTest[] {
  const id = ++nextRuleId;
  return tests.map((rt) =>
    rt.test.kind === "opaque" ? { ...rt, test: { ...rt.test, key: `${rt.test.key} #${id}` } } : rt,
  );
}

/** One match block's tests, and why no packet matches it (if so). */
function blockTests(m: MatchBlock, family: Family): CompiledRule {
  const tests: RuleTest[] = [];
  let matchesNothing: string | undefined;
  const opaqueClauses: Clause[] = [];
  for (const c of m.clauses) {
    const never = impossibleMark(m.module, c);
    if (never !== undefined) {
      // `! --mark V/M` with V outside M holds for every packet; `--mark V/M` for none.
      if (!c.negated) matchesNothing ??= never;
      continue;
    }
    const t = m.module === "" ? builtinTest(c, family) : moduleTest(m.module, c, family);
    if (t === "any") continue;
    if (t.kind === "opaque" && m.module !== "") opaqueClauses.push(c);
    else {
      matchesNothing ??= nothingMatches(t, c.negated, family);
      tests.push({ test: t, negated: c.negated });
    }
  }
  const condition = moduleCondition(m.module, opaqueClauses);
  tests.push(...(STATEFUL_MODULES.has(m.module) ? perRule(condition) : condition));
  return { tests, matchesNothing };
}

/** The rule's tests (comments dropped, matches that hold for every packet dropped). */
export function compileRule(rule: ParsedRule, family: Family): CompiledRule {
  if (rule.compiled) return rule.compiled;
  const byFamily = cache.get(rule);
  const hit = byFamily?.[family];
  if (hit) return hit;
  const tests: RuleTest[] = [];
  let matchesNothing: string | undefined;
  for (const m of rule.matches) {
    if (m.module === "comment") continue;
    const block = blockTests(m, family);
    tests.push(...block.tests);
    matchesNothing ??= block.matchesNothing;
  }
  const compiled = { tests, matchesNothing };
  if (byFamily) byFamily[family] = compiled;
  else cache.set(rule, { [family]: compiled });
  return compiled;
}

/**
 * Why a `-m mark`/`-m connmark --mark V/M` clause matches no packet: the kernel tests
 * (mark & M) == V (xt_mark.c, xt_connmark.c), never true when V has bits outside M.
 */
function impossibleMark(module: string, c: Clause): string | undefined {
  if ((module !== "mark" && module !== "connmark") || c.flag !== "--mark" || c.args.length !== 1)
    return undefined;
  const t = parseMarkTest(c.args[0]!);
  if (!t || !markNeverMatches(t)) return undefined;
  return `-m ${module} --mark ${c.args[0]} matches no packet: the value has bits outside the mask`;
}

function nothingMatches(t: Test, negated: boolean, family: Family): string | undefined {
  if (!negated) return undefined;
  const whole = fullRange(family);
  if (t.kind === "address" && t.range.first === whole.first && t.range.last === whole.last)
    return `! ${t.field === "source" ? "-s" : "-d"} ${t.text} matches no address`;
  if (t.kind === "protocol" && t.protocol === 0) return `! -p ${t.text} matches no protocol`;
  return undefined;
}

/**
 * A module's undecidable options as one condition: `-m statistic --mode random --probability
 * 0.5` is one fact about the packet, not two. A single option keeps its own negation, so
 * `-m set --match-set S src` and `-m set ! --match-set S src` are the same fact, opposite ways.
 */
function moduleCondition(module: string, clauses: readonly Clause[]): RuleTest[] {
  const [only] = clauses;
  if (!only) return [];
  if (clauses.length === 1) return [{ test: opaque(module, only), negated: only.negated }];
  const text = `-m ${module} ${clauses.map((c) => `${c.negated ? "! " : ""}${c.flag} ${c.args.join(" ")}`.trim()).join(" ")}`;
  return [{ test: { kind: "opaque", key: text, text, module }, negated: false }];
}

/** Per chain's rules array and family: compileRule of each rule, in order. */
const chainCache = new WeakMap<readonly ParsedRule[], Partial<Record<Family, CompiledRule[]>>>();

/**
 * compileRule of every rule of a chain, found with one lookup per chain instead of one per
 * rule visit (the walk visits each rule once per branch). Rule arrays are never mutated once
 * parsed (the parse cache shares them); the result is read only.
 */
export function compileChain(
  rules: readonly ParsedRule[],
  family: Family,
): readonly CompiledRule[] {
  let byFamily = chainCache.get(rules);
  const hit = byFamily?.[family];
  if (hit) return hit;
  const compiled = rules.map((r) => compileRule(r, family));
  if (!byFamily) {
    byFamily = {};
    chainCache.set(rules, byFamily);
  }
  byFamily[family] = compiled;
  return compiled;
}
