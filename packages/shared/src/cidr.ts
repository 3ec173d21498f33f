// CIDR and IP handling with Go `net.ParseCIDR` semantics (what upstream ip-masq-agent uses),
// plus range arithmetic for behaviour comparisons. Addresses are bigints so IPv4 and IPv6
// share one code path.
import ipaddr from "ipaddr.js";

export type Family = "ipv4" | "ipv6";

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

/** Parses an IP address as Go's netip.ParseAddr does (no leading zeros, no zones). */
export function parseIp(text: string): ParsedIp | null {
  if (text.includes(":")) {
    if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return null;
    const addr = ipaddr.IPv6.parse(text);
    return { family: "ipv6", value: bytesToBigint(addr.toByteArray()), text };
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

function unparsable(text: string): CidrParse {
  return {
    ok: false,
    reason: "unparsable",
    message: `CIDR "${text}" could not be parsed, invalid CIDR address: ${text}`,
  };
}

// The same few CIDRs are parsed over and over (every rule of every snapshot of every node);
// results are immutable, so a bounded memo is safe and keeps this pure.
const MEMO_LIMIT = 4096;
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
    // Go treats ::ffff:a.b.c.d as IPv4 when choosing iptables vs ip6tables; the rule would fail.
    return {
      ok: false,
      reason: "ipv4-mapped",
      message: `CIDR "${text}" is an IPv4-mapped IPv6 block; write the IPv4 CIDR instead`,
    };
  }
  const network = ip.value & maskOf(ip.family, prefix);
  const canonical = `${formatIp(ip.family, network)}/${prefix}`;
  if (network !== ip.value) {
    return {
      ok: false,
      reason: "misaligned",
      message: `CIDR "${text}" is not aligned to a CIDR block, ip: "${formatIp(ip.family, ip.value)}" network: "${canonical}"`,
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
  const sorted = cidrs
    .map((c) => ({ first: c.network, last: cidrLast(c) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

/** True when every address of `c` lies in the (merged, sorted) ranges. */
export function rangesCover(ranges: readonly Range[], c: Cidr): boolean {
  const first = c.network;
  const last = cidrLast(c);
  return ranges.some((r) => r.first <= first && last <= r.last);
}
