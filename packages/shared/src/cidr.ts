// CIDR and IP handling with Go `net.ParseCIDR` semantics (what upstream ip-masq-agent uses),
// plus range arithmetic for behaviour comparisons. Addresses are bigints so IPv4 and IPv6
// share one code path.
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { goQuote } from "./go-quote.js";
import { MAX_CONFIG_CIDRS } from "./limits.js";

export const familySchema = z.enum(["ipv4", "ipv6"]);
export type Family = z.infer<typeof familySchema>;

export interface Cidr {
  /** The text as written by the user (upstream writes it verbatim into the rule). */
  text: string;
  family: Family;
  prefix: number;
  /** First address of the block. */
  network: bigint;
  /** Canonical form, as iptables prints it back (`10.0.0.0/8`, `fc00::/7`). */
  canonical: string;
}

export type CidrParse =
  | { ok: true; cidr: Cidr }
  | {
      ok: false;
      reason: "unparsable" | "misaligned" | "ipv4-mapped";
      message: string;
      suggestion?: string;
    };

export interface ParsedIp {
  family: Family;
  value: bigint;
  text: string;
}

const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const DIGITS = /^[0-9]+$/;

export function bitsOf(family: Family): number {
  return family === "ipv4" ? 32 : 128;
}

function bytesToBigint(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** An IPv6 text being read: the groups so far, where `::` stands (-1: none), what is left. */
interface V6Scan {
  groups: number[];
  ellipsis: number;
  rest: string;
}

/** Where a read goes on: another group, the end of the address, or no address at all. */
type V6Step = "next" | "done" | "bad";

/** An embedded IPv4 (`::ffff:192.0.2.1`): only in the last 32 bits, as two groups. */
function takeEmbeddedV4(st: V6Scan): V6Step {
  if ((st.ellipsis < 0 && st.groups.length !== 6) || st.groups.length > 6) return "bad";
  const v4 = parseIp(st.rest);
  if (v4?.family !== "ipv4") return "bad";
  st.groups.push(Number(v4.value >> 16n), Number(v4.value & 0xffffn));
  st.rest = "";
  return "done";
}

/** After a group: the end, `:` before the next group, or the one `::`. */
function takeSeparator(st: V6Scan): V6Step {
  if (st.rest === "") return "done";
  if (st.rest[0] !== ":" || st.rest.length === 1) return "bad";
  st.rest = st.rest.slice(1);
  if (st.rest[0] !== ":") return "next";
  if (st.ellipsis >= 0) return "bad";
  st.ellipsis = st.groups.length;
  st.rest = st.rest.slice(1);
  return st.rest === "" ? "done" : "next";
}

/** One group of 1-4 hex digits (or the embedded IPv4) and what follows it. */
function takeGroup(st: V6Scan): V6Step {
  const m = /^[0-9a-fA-F]{1,4}/.exec(st.rest);
  if (!m || /^[0-9a-fA-F]/.test(st.rest.slice(m[0].length))) return "bad";
  if (st.rest[m[0].length] === ".") return takeEmbeddedV4(st);
  st.groups.push(Number.parseInt(m[0], 16));
  st.rest = st.rest.slice(m[0].length);
  return takeSeparator(st);
}

/** The 8 groups with `::` as zero groups; null when `::` stands for none or there are too few. */
function expandGroups(st: V6Scan): number[] | null {
  const { groups, ellipsis } = st;
  if (groups.length === 8) return ellipsis < 0 ? groups : null;
  if (ellipsis < 0) return null;
  groups.splice(ellipsis, 0, ...new Array<number>(8 - groups.length).fill(0));
  return groups;
}

/**
 * Go's netip.ParseAddr for IPv6 (what net.ParseCIDR uses): 1-4 hex digits per group, one `::`
 * standing for at least one zero group, an embedded IPv4 only in the last 32 bits and without
 * leading zeros, no zone.
 */
function parseIPv6(text: string): bigint | null {
  const st: V6Scan = { groups: [], ellipsis: -1, rest: text };
  if (text.startsWith("::")) {
    st.ellipsis = 0;
    st.rest = text.slice(2);
    if (st.rest === "") return 0n;
  }
  let step: V6Step = "next";
  while (step === "next" && st.groups.length < 8) step = takeGroup(st);
  if (step === "bad" || st.rest !== "") return null;
  const groups = expandGroups(st);
  return groups === null ? null : groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n);
}

/** Parses an IP address as Go's netip.ParseAddr does (no leading zeros in IPv4, no zones). */
export function parseIp(text: string): ParsedIp | null {
  if (text.includes(":")) {
    const value = parseIPv6(text);
    return value === null ? null : { family: "ipv6", value, text };
  }
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!IPV4_OCTET.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    bytes.push(n);
  }
  return { family: "ipv4", value: bytesToBigint(bytes), text };
}

export function maskOf(family: Family, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  const hostBits = bits - BigInt(prefix);
  const all = (1n << bits) - 1n;
  return all ^ ((1n << hostBits) - 1n);
}

export function formatIp(family: Family, value: bigint): string {
  if (family === "ipv4") {
    const out: number[] = [];
    for (let i = 3; i >= 0; i--) out.push(Number((value >> BigInt(i * 8)) & 255n));
    return out.join(".");
  }
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Upstream's cidrParseErrFmt (`CIDR %q could not be parsed, %v`) with net.ParseError's text. */
function unparsable(text: string): CidrParse {
  return {
    ok: false,
    reason: "unparsable",
    message: `CIDR ${goQuote(text)} could not be parsed, invalid CIDR address: ${text}`,
  };
}

// The same few CIDRs are parsed over and over (every rule of every snapshot of every node);
// results are immutable, so a bounded memo is safe and keeps this pure.
const MEMO_LIMIT = 2 * MAX_CONFIG_CIDRS;
const memo = new Map<string, CidrParse>();

/** Parses and checks a CIDR exactly as upstream's validateCIDR does (parse, then alignment). */
export function parseCidr(text: string): CidrParse {
  const hit = memo.get(text);
  if (hit) return hit;
  const r = parseCidrUncached(text);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, Object.freeze(r.ok ? { ok: true, cidr: Object.freeze(r.cidr) } : r));
  return r;
}

function parseCidrUncached(text: string): CidrParse {
  const slash = text.indexOf("/");
  if (slash < 0) return unparsable(text);
  const ip = parseIp(text.slice(0, slash));
  const maskText = text.slice(slash + 1);
  if (!ip || !DIGITS.test(maskText)) return unparsable(text);
  const prefix = Number(maskText);
  if (prefix > bitsOf(ip.family)) return unparsable(text);
  if (ip.family === "ipv6" && ip.value >> 32n === 0xffffn) {
    // Go's To4() files ::ffff:a.b.c.d under IPv4: upstream writes it into the IPv4 chain, where
    // iptables-restore cannot read it, so every apply fails. Not upstream's error: ours.
    const v4 =
      prefix >= 96 ? `${formatIp("ipv4", ip.value & 0xffffffffn)}/${prefix - 96}` : undefined;
    return {
      ok: false,
      reason: "ipv4-mapped",
      message: `${text} is an IPv4-mapped IPv6 block: ip-masq-agent files it under IPv4, where iptables cannot read it, so applying fails; write the IPv4 CIDR${v4 ? ` (${v4})` : ""}`,
      ...(v4 ? { suggestion: v4 } : {}),
    };
  }
  const network = ip.value & maskOf(ip.family, prefix);
  const canonical = `${formatIp(ip.family, network)}/${prefix}`;
  if (network !== ip.value) {
    return {
      ok: false,
      reason: "misaligned",
      message: `CIDR ${goQuote(text)} is not aligned to a CIDR block, ip: "${formatIp(ip.family, ip.value)}" network: "${canonical}"`,
      suggestion: canonical,
    };
  }
  return { ok: true, cidr: { text, family: ip.family, prefix, network, canonical } };
}

/**
 * An address as iptables takes and prints it in `-s`/`-d`: a host without prefix is /32 or
 * /128, and host bits are masked away (`10.1.2.3/8` is stored as 10.0.0.0/8). Undefined when
 * the text is not an address (of `family`, when given).
 */
export function iptablesAddress(text: string, family?: Family): Cidr | undefined {
  const withPrefix = text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`;
  let p = parseCidr(withPrefix);
  if (!p.ok && p.reason === "misaligned" && p.suggestion) p = parseCidr(p.suggestion);
  if (!p.ok) return undefined;
  return family === undefined || p.cidr.family === family ? p.cidr : undefined;
}

/** Like parseCidr but throws; for values already validated (rendering desired rules). */
export function mustParseCidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(r.message);
  return r.cidr;
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefix);
}

export function cidrLast(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}

export function cidrContainsIp(c: Cidr, ip: ParsedIp): boolean {
  return c.family === ip.family && (ip.value & maskOf(c.family, c.prefix)) === c.network;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    (inner.network & maskOf(outer.family, outer.prefix)) === outer.network
  );
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** A half-open-free inclusive address range; sets of them describe "where traffic returns". */
export interface Range {
  first: bigint;
  last: bigint;
}

export function toRanges(cidrs: readonly Cidr[]): Range[] {
  return mergeRanges(cidrs.map((c) => ({ first: c.network, last: cidrLast(c) })));
}

/** Ranges sorted and merged where they overlap or touch (n log n). */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

/** True when every address of `c` lies in the ranges (merged and sorted, as toRanges makes them). */
export function rangesCover(ranges: readonly Range[], c: Cidr): boolean {
  const first = c.network;
  const last = cidrLast(c);
  // The last range starting at or before `first` is the only one that can hold it.
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.first <= first) lo = mid + 1;
    else hi = mid - 1;
  }
  const r = ranges[hi];
  return r !== undefined && last <= r.last;
}

/**
 * How iptables reads the prefix of a CIDR written with leading zeros: xtables_strtoui with base
 * 0 takes `016` as octal (14) and refuses `08`. Undefined when the prefix has no leading zero
 * (read as written); null when iptables refuses it.
 */
export function iptablesPrefix(c: Cidr): number | null | undefined {
  const digits = c.text.slice(c.text.lastIndexOf("/") + 1);
  if (digits.length < 2 || digits[0] !== "0") return undefined;
  if (!/^[0-7]+$/.test(digits)) return null;
  const n = Number.parseInt(digits, 8);
  return n <= bitsOf(c.family) ? n : null;
}

/** Why the text is not the block's canonical form (RFC 5952 for IPv6), if it is not. */
export function nonCanonicalReason(c: Cidr): string | undefined {
  if (c.text === c.canonical) return undefined;
  const [addr = "", prefix = ""] = c.text.split("/");
  if (prefix !== String(c.prefix)) return `the prefix /${prefix} has leading zeros`;
  if (c.family === "ipv6") {
    if (/[A-F]/.test(addr)) return "upper-case hex digits";
    if (addr.includes(".")) return "an embedded IPv4 address";
    if (/(^|:)0[0-9a-fA-F]/.test(addr)) return "leading zeros in a group";
    return "zero groups written otherwise than RFC 5952 prescribes";
  }
  return "not written as iptables prints it";
}
