// One nftables rule as the path evaluator's rule: its matches as tests (addresses and set
// lookups as address sets, marks, protocols, ports, `fib daddr type local`; the rest as
// conditions the packet cannot decide), its verdict or NAT statement as the target. Per family:
// in an `inet` chain `ip daddr …` never matches IPv6 packets. A rule with an expression whose
// effect is not modelled is kept, marked `unreadable` with the reason: the walk answers
// "unknown" there, never "in sync" or "not masqueraded".
import { type Family, parseIp, type Range } from "../cidr.js";
import type { ParsedRule } from "../parser.js";
import type { RuleTest, Test } from "../path/matches.js";
import { protocolNumber } from "../path/packet.js";
import { fullRange, type RangeSet, unionSets } from "../path/range-set.js";
import type { NftSet, NftTable } from "./parse.js";
import { exprText, kindOf, ruleText, statementText } from "./text.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** How the nft analysis names a chain: "inet ip_masq_agent postrouting". */
export function chainRef(table: Pick<NftTable, "family" | "name">, chain: string): string {
  return `${table.family} ${table.name} ${chain}`;
}

interface Build {
  family: Family;
  table: NftTable;
  tests: RuleTest[];
  matchesNothing?: string;
  target?: string;
  goto: boolean;
  targetArgs: ParsedRule["targetArgs"];
  notUnderstood?: string;
  /** Per-rule key for conditions whose answer changes per packet (numgen, limit, quota). */
  id: string;
}

const IP_FIELDS: Record<string, Family> = { ip: "ipv4", ip6: "ipv6" };
const L4 = new Set(["tcp", "udp", "sctp", "udplite", "dccp"]);

/** An address element (`10.0.0.1`, prefix, range, `{elem: …}`) of the family as a range. */
export function elementRange(e: unknown, family: Family): Range | undefined {
  if (typeof e === "string") {
    const ip = parseIp(e);
    return ip && ip.family === family ? { first: ip.value, last: ip.value } : undefined;
  }
  const k = kindOf(e);
  if (!k || (!isObj(k[1]) && k[0] !== "range")) return undefined;
  const [kind, body] = k;
  if (kind === "elem") return elementRange((body as Obj).val, family);
  if (kind === "range" && Array.isArray(body)) {
    const a = elementRange(body[0], family);
    const b = elementRange(body[1], family);
    return a && b && a.first <= b.last ? { first: a.first, last: b.last } : undefined;
  }
  if (kind === "prefix") {
    const { addr, len } = body as Obj;
    const ip = typeof addr === "string" ? parseIp(addr) : null;
    const bits = family === "ipv4" ? 32 : 128;
    if (!ip || ip.family !== family || typeof len !== "number" || len < 0 || len > bits)
      return undefined;
    const size = 1n << BigInt(bits - len);
    const first = ip.value - (ip.value % size);
    return { first, last: first + size - 1n };
  }
  return undefined;
}

/** Address elements as one range set; undefined when one is not an address of the family. */
export function elementsRanges(elems: readonly unknown[], family: Family): RangeSet | undefined {
  const ranges: Range[] = [];
  for (const e of elems) {
    const r = elementRange(e, family);
    if (!r) return undefined;
    ranges.push(r);
  }
  return ranges.reduce<RangeSet>((acc, r) => unionSets(acc, [r]), []);
}

/** Marks the rule as not understood (the first reason is kept). */
function fail(b: Build, reason: string): undefined {
  b.notUnderstood ??= reason;
}

function opaque(b: Build, text: string, negated: boolean, perRule = false): undefined {
  const key = perRule ? `${text} #${b.id}` : text;
  b.tests.push({ test: { kind: "opaque", key, text, module: "nft" }, negated });
}

function setOf(b: Build, ref: string): NftSet | undefined {
  return ref.startsWith("@") ? b.table.sets.get(ref.slice(1)) : undefined;
}

/** `ip daddr X`: X an address, prefix, range, anonymous set or named set. */
function addressMatch(
  b: Build,
  field: "source" | "destination",
  right: unknown,
  neg: boolean,
): undefined {
  const text = exprText(right);
  const k = kindOf(right);
  const named = typeof right === "string" ? setOf(b, right) : undefined;
  const elems =
    named?.kind === "set"
      ? named.elem
      : k?.[0] === "set" && Array.isArray(k[1])
        ? k[1]
        : typeof right === "string" && right.startsWith("@")
          ? undefined
          : [right];
  const ranges = elems && elementsRanges(elems, b.family);
  if (!ranges) {
    opaque(b, `${field === "source" ? "saddr" : "daddr"} ${text}`, neg);
    return;
  }
  const test: Test = { kind: "address-set", field, ranges, text };
  const whole = fullRange(b.family);
  const all =
    ranges.length === 1 && ranges[0]!.first === whole.first && ranges[0]!.last === whole.last;
  if (all && neg) b.matchesNothing ??= `${text} holds every address: != matches none`;
  else if (ranges.length === 0 && !neg)
    b.matchesNothing ??= `${text} is empty: no address is in it`;
  else if (!all) b.tests.push({ test, negated: neg });
}

function numberOf(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
}

/** `meta mark V`, `meta mark & M == V`, `meta mark & M != 0` (single bit) as mark tests. */
function markMatch(b: Build, left: unknown, right: unknown, op: string, text: string): undefined {
  const l = kindOf(left);
  let mask = 0xffffffff;
  if (l?.[0] === "&" && Array.isArray(l[1])) {
    const m = numberOf(l[1][1]);
    if (m === undefined) return opaque(b, text, false);
    mask = m;
  }
  const value = numberOf(right);
  if (value === undefined || (op !== "==" && op !== "!=")) return opaque(b, text, false);
  const single = mask !== 0 && (mask & (mask - 1)) === 0;
  // (mark & M) != 0 for one bit M is (mark & M) == M.
  if (op === "!=" && value === 0 && single) {
    b.tests.push({
      test: {
        kind: "mark",
        mark: { value: mask, mask },
        text: `${hexMark(mask)}/${hexMark(mask)}`,
      },
      negated: false,
    });
    return;
  }
  b.tests.push({
    test: { kind: "mark", mark: { value, mask }, text: `${hexMark(value)}/${hexMark(mask)}` },
    negated: op === "!=",
  });
}

const hexMark = (n: number) => `0x${n.toString(16)}`;

function isMark(e: unknown): boolean {
  const k = kindOf(e);
  if (k?.[0] === "meta") return (k[1] as Obj).key === "mark";
  return k?.[0] === "&" && Array.isArray(k[1]) && isMark(k[1][0]);
}

function protocolOf(v: unknown): number | undefined {
  return typeof v === "string" || typeof v === "number" ? protocolNumber(String(v)) : undefined;
}

function protocolMatch(b: Build, right: unknown, neg: boolean, text: string): undefined {
  const k = kindOf(right);
  if (k?.[0] === "set" && Array.isArray(k[1])) {
    const protocols = k[1].map(protocolOf);
    if (protocols.some((p) => p === undefined)) return opaque(b, text, neg);
    const test: Test = { kind: "protocols", protocols: protocols as number[], text };
    b.tests.push({ test, negated: neg });
    return;
  }
  const p = protocolOf(right);
  if (p === undefined) return opaque(b, text, neg);
  b.tests.push({ test: { kind: "protocol", protocol: p, text: String(right) }, negated: neg });
}

function portMatch(b: Build, proto: string, right: unknown, neg: boolean, text: string): undefined {
  const k = kindOf(right);
  const items = k?.[0] === "set" && Array.isArray(k[1]) ? k[1] : [right];
  const ranges: [number, number][] = [];
  for (const it of items) {
    const n = numberOf(it);
    const r = kindOf(it);
    if (n !== undefined && n <= 65535) ranges.push([n, n]);
    else if (r?.[0] === "range" && Array.isArray(r[1]) && numberOf(r[1][0]) !== undefined)
      ranges.push([r[1][0] as number, numberOf(r[1][1]) ?? 65535]);
    else return opaque(b, text, neg);
  }
  if (L4.has(proto)) protocolMatch(b, proto, false, `meta l4proto ${proto}`);
  b.tests.push({ test: { kind: "port", ranges, text: `dport ${exprText(right)}` }, negated: neg });
}

/** A `match` expression as tests on the packet. */
function match(b: Build, m: Obj): undefined {
  const op = String(m.op);
  const neg = op === "!=";
  // The condition's text is the positive match; `negated` carries `!=`.
  const bare = op === "==" || op === "!=" || op === "in";
  const text = `${exprText(m.left)}${bare ? "" : ` ${op}`} ${exprText(m.right)}`;
  const k = kindOf(m.left);
  const body = k && isObj(k[1]) ? (k[1] as Obj) : {};
  if (op !== "==" && op !== "!=") return opaque(b, text, false, k?.[0] === "numgen");
  if (k?.[0] === "payload" && IP_FIELDS[String(body.protocol)]) {
    const fam = IP_FIELDS[String(body.protocol)]!;
    if (fam !== b.family) {
      b.matchesNothing ??= `${body.protocol} ${body.field} matches ${fam === "ipv4" ? "IPv4" : "IPv6"} packets only`;
      return;
    }
    if (body.field === "daddr" || body.field === "saddr")
      return addressMatch(b, body.field === "saddr" ? "source" : "destination", m.right, neg);
    if (body.field === "protocol" || body.field === "nexthdr")
      return protocolMatch(b, m.right, neg, text);
    return opaque(b, text, neg);
  }
  if (k?.[0] === "payload" && body.field === "dport" && typeof body.protocol === "string")
    return portMatch(b, body.protocol, m.right, neg, text);
  if (k?.[0] === "meta" && body.key === "nfproto") {
    const want = m.right === "ipv4" ? "ipv4" : m.right === "ipv6" ? "ipv6" : undefined;
    if (!want) return opaque(b, text, neg);
    if ((want === b.family) === neg) b.matchesNothing ??= `${text} never holds for ${b.family}`;
    return;
  }
  if (k?.[0] === "meta" && body.key === "l4proto") return protocolMatch(b, m.right, neg, text);
  if (isMark(m.left)) return markMatch(b, m.left, m.right, op, text);
  if (k?.[0] === "fib" && body.result === "type" && m.right === "local") {
    const flags = Array.isArray(body.flags) ? body.flags : [body.flags];
    if (flags.length === 1 && flags[0] === "daddr") {
      b.tests.push({ test: { kind: "non-local", text: "fib daddr type local" }, negated: neg });
      return;
    }
  }
  opaque(b, text, neg, k?.[0] === "numgen" || k?.[0] === "jhash");
}

/** Sets the rule's effect; a second effect in one rule is not modelled. */
function effect(
  b: Build,
  target: string,
  args: ParsedRule["targetArgs"] = [],
  goto = false,
): undefined {
  if (b.target !== undefined) {
    b.notUnderstood ??= "more than one effect in one rule";
    return;
  }
  b.target = target;
  b.goto = goto;
  b.targetArgs = args;
}

const arg = (flag: string, ...args: string[]) => ({ flag, args, negated: false });

function natEffect(b: Build, kind: string, body: Obj): undefined {
  const flags =
    body.flags === undefined ? [] : Array.isArray(body.flags) ? body.flags : [body.flags];
  const random = flags.includes("fully-random") ? [arg("--random-fully")] : [];
  const port = body.port !== undefined ? [arg("--to-ports", exprText(body.port))] : [];
  if (kind === "masquerade") return effect(b, "MASQUERADE", [...port, ...random]);
  if (kind === "snat") {
    const to = `${body.addr !== undefined ? exprText(body.addr) : ""}${body.port !== undefined ? `:${exprText(body.port)}` : ""}`;
    return effect(b, "SNAT", [arg("--to-source", to), ...random]);
  }
  effect(b, kind.toUpperCase());
}

/** `meta mark set mark | X` (and &, ^, a constant) as MARK's --set-xmark. */
function markEffect(b: Build, value: unknown): undefined {
  const n = numberOf(value);
  if (n !== undefined) return effect(b, "MARK", [arg("--set-xmark", `${hexMark(n)}/0xffffffff`)]);
  const k = kindOf(value);
  const ops = k && Array.isArray(k[1]) ? k[1] : [];
  const x = numberOf(ops[1]);
  if (k && isMark(ops[0]) && x !== undefined) {
    if (k[0] === "|") return effect(b, "MARK", [arg("--set-xmark", `${hexMark(x)}/${hexMark(x)}`)]);
    if (k[0] === "^") return effect(b, "MARK", [arg("--set-xmark", `${hexMark(x)}/0x0`)]);
    if (k[0] === "&") return effect(b, "MARK", [arg("--set-xmark", `0x0/${hexMark(~x >>> 0)}`)]);
  }
  effect(b, "MARK"); // MARK without arguments: every bit of the mark becomes unknown
}

const PASS = new Set(["counter", "log", "notrack", "comment"]);

function statement(b: Build, s: unknown): undefined {
  const k = kindOf(s);
  if (!k) return fail(b, `not an nft expression: ${JSON.stringify(s).slice(0, 80)}`);
  const [kind, body] = k;
  const o = isObj(body) ? body : {};
  if (b.target !== undefined && !PASS.has(kind))
    return fail(b, `${statementText(s)} after the rule's effect`);
  switch (kind) {
    case "match":
      return match(b, o);
    case "accept":
    case "return":
    case "drop":
      return effect(b, kind.toUpperCase());
    case "continue":
      return;
    case "jump":
    case "goto":
      return effect(b, chainRef(b.table, String(o.target)), [], kind === "goto");
    case "masquerade":
    case "snat":
    case "dnat":
    case "redirect":
      return natEffect(b, kind, o);
    case "reject":
      return effect(b, "REJECT");
    case "limit":
    case "quota":
      return opaque(b, statementText(s), false, true);
    case "mangle":
      if (isMark(o.key)) return markEffect(b, o.value);
      if (kindOf(o.key)?.[0] === "ct" && (kindOf(o.key)![1] as Obj).key === "mark")
        return effect(b, "CONNMARK", [arg("--set-xmark", exprText(o.value))]);
      return fail(b, `${statementText(s)} is not modelled`);
    case "xt":
      return xt(b, o);
    default:
      if (PASS.has(kind)) return;
      return fail(b, `${statementText(s)} is not modelled`);
  }
}

/** iptables-nft's compat expressions: nft -j shows their names, never their arguments. */
function xt(b: Build, o: Obj): undefined {
  const name = String(o.name);
  if (o.type === "match") {
    if (name === "comment") return;
    return opaque(b, `xt match ${name} (arguments not shown by nft -j)`, false, true);
  }
  if (name === "MASQUERADE") return effect(b, "MASQUERADE");
  if (name === "SNAT")
    return effect(b, "SNAT", [arg("--to-source", "an address nft -j does not show")]);
  if (name === "MARK") return effect(b, "MARK");
  b.notUnderstood ??= `xt target ${name} (arguments not shown by nft -j) is not modelled`;
}

let nextId = 0;

/**
 * One nft rule as evaluator rules for `family`: usually one; a verdict map keyed by address
 * becomes one rule per element (elements are disjoint, so the order does not matter).
 */
export function translateRule(
  table: NftTable,
  chain: string,
  rule: { handle?: number; comment?: string; expr: readonly unknown[] },
  family: Family,
): ParsedRule[] {
  const b: Build = { family, table, tests: [], goto: false, targetArgs: [], id: String(++nextId) };
  const vmaps: Obj[] = [];
  for (const s of rule.expr) {
    const k = kindOf(s);
    if (k?.[0] === "vmap" && isObj(k[1]) && b.target === undefined) vmaps.push(k[1]);
    else statement(b, s);
  }
  const base: ParsedRule = {
    line: rule.handle ?? 0,
    text: ruleText(rule.expr, rule.comment),
    table: `${table.family} ${table.name}`,
    chain: chainRef(table, chain),
    matches: [],
    goto: b.goto,
    targetArgs: b.targetArgs,
    ...(b.target !== undefined ? { target: b.target } : {}),
    ...(rule.comment !== undefined ? { comment: rule.comment } : {}),
    syntax: "nft",
    compiled: { tests: b.tests, matchesNothing: b.matchesNothing },
  };
  if (b.notUnderstood) {
    const { target: _t, ...rest } = base;
    return [{ ...rest, goto: false, targetArgs: [], unreadable: b.notUnderstood }];
  }
  if (vmaps.length === 0) return [base];
  if (vmaps.length > 1 || b.target !== undefined)
    return [{ ...base, unreadable: "a verdict map with another effect in one rule" }];
  return vmapRules(b, base, vmaps[0]!);
}

/** `ip daddr vmap { A : return, B : jump X }` → one rule per element: address test + verdict. */
function vmapRules(b: Build, base: ParsedRule, v: Obj): ParsedRule[] {
  const key = kindOf(v.key);
  const body = key && isObj(key[1]) ? (key[1] as Obj) : {};
  const field =
    body.field === "saddr" ? "source" : body.field === "daddr" ? "destination" : undefined;
  const named = typeof v.data === "string" ? setOf(b, v.data) : undefined;
  const dk = kindOf(v.data);
  const elems = named ? named.elem : dk?.[0] === "set" && Array.isArray(dk[1]) ? dk[1] : undefined;
  if (key?.[0] !== "payload" || !field || !elems || IP_FIELDS[String(body.protocol)] === undefined)
    return [
      {
        ...base,
        unreadable: `${exprText(v.key)} vmap ${exprText(v.data)}: only address-keyed verdict maps are modelled`,
      },
    ];
  if (IP_FIELDS[String(body.protocol)] !== b.family)
    return [
      {
        ...base,
        compiled: {
          tests: [],
          matchesNothing: `${body.protocol} ${body.field} matches another family only`,
        },
      },
    ];
  return elems.map((e, i) => {
    const pair = Array.isArray(e) ? e : [];
    const r = elementsRanges([pair[0]], b.family);
    const one: Build = { ...b, tests: [...b.tests], target: undefined, targetArgs: [] };
    statement(one, pair[1]);
    const text = `${base.text} (element ${i + 1}: ${exprText(pair[0])} : ${statementText(pair[1])})`;
    if (!r || one.notUnderstood || one.target === undefined)
      return {
        ...base,
        text,
        unreadable:
          one.notUnderstood ?? "a verdict map element that is not an address and a verdict",
      };
    const test: Test = { kind: "address-set", field, ranges: r, text: exprText(pair[0]) };
    return {
      ...base,
      text,
      target: one.target,
      goto: one.goto,
      targetArgs: one.targetArgs,
      compiled: {
        tests: [...one.tests, { test, negated: false }],
        matchesNothing: one.matchesNothing,
      },
    };
  });
}
