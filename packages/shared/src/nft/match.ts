// The match expressions of an nftables rule as the path evaluator's tests: addresses and set
// lookups as address sets, marks, protocols and protocol sets, ports, `fib daddr type local`,
// `meta nfproto` decided by the family; every other match a condition the packet cannot decide.
import type { Family } from "../cidr.js";
import type { ParsedRule } from "../parser.js";
import type { RuleTest, Test } from "../path/matches.js";
import { protocolNumber } from "../path/packet.js";
import { fullRange } from "../path/range-set.js";
import { elementsRanges } from "./elements.js";
import type { NftSet, NftTable } from "./parse.js";
import { exprText, kindOf } from "./text.js";

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** One rule being translated. */
export interface Build {
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

export const IP_FIELDS: Record<string, Family> = { ip: "ipv4", ip6: "ipv6" };
const L4 = new Set(["tcp", "udp", "sctp", "udplite", "dccp"]);

/** Marks the rule as not understood (the first reason is kept). */
export function fail(b: Build, reason: string): undefined {
  b.notUnderstood ??= reason;
}

export function opaque(b: Build, text: string, negated: boolean, perRule = false): undefined {
  const key = perRule ? `${text} #${b.id}` : text;
  b.tests.push({ test: { kind: "opaque", key, text, module: "nft" }, negated });
}

export function setOf(b: Build, ref: string): NftSet | undefined {
  return ref.startsWith("@") ? b.table.sets.get(ref.slice(1)) : undefined;
}

/**
 * The elements `ip daddr X` compares with: a named set's, an anonymous set's, or X alone;
 * undefined for a reference to a set the table does not hold (or a map).
 */
function addressElements(b: Build, right: unknown): readonly unknown[] | undefined {
  const k = kindOf(right);
  if (k?.[0] === "set" && Array.isArray(k[1])) return k[1];
  if (typeof right !== "string" || !right.startsWith("@")) return [right];
  const named = setOf(b, right);
  return named?.kind === "set" ? named.elem : undefined;
}

/** Whether `ranges` is the family's whole address space. */
function coversAll(ranges: readonly { first: bigint; last: bigint }[], family: Family): boolean {
  const whole = fullRange(family);
  return ranges.length === 1 && ranges[0]!.first === whole.first && ranges[0]!.last === whole.last;
}

/** `ip daddr X`: X an address, prefix, range, anonymous set or named set. */
function addressMatch(
  b: Build,
  field: "source" | "destination",
  right: unknown,
  neg: boolean,
): undefined {
  const text = exprText(right);
  const elems = addressElements(b, right);
  const ranges = elems && elementsRanges(elems, b.family);
  if (!ranges) {
    opaque(b, `${field === "source" ? "saddr" : "daddr"} ${text}`, neg);
    return;
  }
  const test: Test = { kind: "address-set", field, ranges, text };
  const all = coversAll(ranges, b.family);
  if (all && neg) b.matchesNothing ??= `${text} holds every address: != matches none`;
  else if (ranges.length === 0 && !neg)
    b.matchesNothing ??= `${text} is empty: no address is in it`;
  else if (!all) b.tests.push({ test, negated: neg });
}

export function numberOf(v: unknown): number | undefined {
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

export const hexMark = (n: number) => `0x${n.toString(16)}`;

export function isMark(e: unknown): boolean {
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

/** What a `match` compares: its left side's kind and body, right side, `!=`, and its text. */
interface Comparison {
  kind: string | undefined;
  body: Obj;
  right: unknown;
  neg: boolean;
  text: string;
}

/** `ip|ip6 <field> X`: nothing for the other family; addresses and protocols as tests. */
function ipPayloadMatch(b: Build, c: Comparison): undefined {
  const fam = IP_FIELDS[String(c.body.protocol)]!;
  const field = c.body.field;
  if (fam !== b.family) {
    b.matchesNothing ??= `${c.body.protocol} ${field} matches ${fam === "ipv4" ? "IPv4" : "IPv6"} packets only`;
    return;
  }
  if (field === "daddr" || field === "saddr")
    return addressMatch(b, field === "saddr" ? "source" : "destination", c.right, c.neg);
  if (field === "protocol" || field === "nexthdr") return protocolMatch(b, c.right, c.neg, c.text);
  return opaque(b, c.text, c.neg);
}

/** `meta nfproto ipv4|ipv6`: decided by the family being walked. */
function nfprotoMatch(b: Build, c: Comparison): undefined {
  const want = c.right === "ipv4" ? "ipv4" : c.right === "ipv6" ? "ipv6" : undefined;
  if (!want) return opaque(b, c.text, c.neg);
  if ((want === b.family) === c.neg) b.matchesNothing ??= `${c.text} never holds for ${b.family}`;
}

/** `fib daddr type local`, the one fib lookup the path evaluator models. */
function isFibDaddrLocal(c: Comparison): boolean {
  if (c.kind !== "fib" || c.body.result !== "type" || c.right !== "local") return false;
  const flags = Array.isArray(c.body.flags) ? c.body.flags : [c.body.flags];
  return flags.length === 1 && flags[0] === "daddr";
}

function comparisonOf(m: Obj, op: string): Comparison {
  // The condition's text is the positive match; `negated` carries `!=`.
  const bare = op === "==" || op === "!=" || op === "in";
  const text = `${exprText(m.left)}${bare ? "" : ` ${op}`} ${exprText(m.right)}`;
  const k = kindOf(m.left);
  const body = k && isObj(k[1]) ? (k[1] as Obj) : {};
  return { kind: k?.[0], body, right: m.right, neg: op === "!=", text };
}

/** A `match` expression as tests on the packet. */
export function match(b: Build, m: Obj): undefined {
  const op = String(m.op);
  const c = comparisonOf(m, op);
  const { body, text } = c;
  if (op !== "==" && op !== "!=") return opaque(b, text, false, c.kind === "numgen");
  if (c.kind === "payload" && IP_FIELDS[String(body.protocol)]) return ipPayloadMatch(b, c);
  if (c.kind === "payload" && body.field === "dport" && typeof body.protocol === "string")
    return portMatch(b, body.protocol, m.right, c.neg, text);
  if (c.kind === "meta" && body.key === "nfproto") return nfprotoMatch(b, c);
  if (c.kind === "meta" && body.key === "l4proto") return protocolMatch(b, m.right, c.neg, text);
  if (isMark(m.left)) return markMatch(b, m.left, m.right, op, text);
  if (isFibDaddrLocal(c)) {
    b.tests.push({ test: { kind: "non-local", text: "fib daddr type local" }, negated: c.neg });
    return;
  }
  opaque(b, text, c.neg, c.kind === "numgen" || c.kind === "jhash");
}
