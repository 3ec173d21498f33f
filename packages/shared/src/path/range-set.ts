// Sets of addresses as sorted, disjoint, merged inclusive ranges: what the path evaluator
// knows about a packet's source or destination ("in 10.0.0.0/8 but not in 10.1.0.0/16").
// Addresses are bigints, as in cidr.ts, so IPv4 and IPv6 share one code path.
import { bitsOf, type Cidr, cidrLast, type Family, formatIp, type Range } from "../cidr.js";

/** Sorted by `first`, pairwise disjoint and not adjacent. */
export type RangeSet = readonly Range[];

export function fullRange(family: Family): Range {
  return { first: 0n, last: (1n << BigInt(bitsOf(family))) - 1n };
}

export function cidrRange(c: Cidr): Range {
  return { first: c.network, last: cidrLast(c) };
}

// Math.max/min do not take bigints.
const maxOf = (a: bigint, b: bigint) => (a < b ? b : a);
const minOf = (a: bigint, b: bigint) => (a < b ? a : b);

/** The addresses of `set` that are also in `r`. */
export function intersectRange(set: RangeSet, r: Range): RangeSet {
  const out: Range[] = [];
  for (const x of set) {
    const first = maxOf(x.first, r.first);
    const last = minOf(x.last, r.last);
    if (first <= last) out.push({ first, last });
  }
  return out;
}

/** The addresses of `set` that are not in `r`. */
export function subtractRange(set: RangeSet, r: Range): RangeSet {
  const out: Range[] = [];
  for (const x of set) {
    if (x.last < r.first || x.first > r.last) {
      out.push(x);
      continue;
    }
    if (x.first < r.first) out.push({ first: x.first, last: r.first - 1n });
    if (x.last > r.last) out.push({ first: r.last + 1n, last: x.last });
  }
  return out;
}

/** One sweep over both sorted sets: linear, so a 4,096-range nftables set costs no more per range. */
export function intersectSets(a: RangeSet, b: RangeSet): RangeSet {
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const first = maxOf(x.first, y.first);
    const last = minOf(x.last, y.last);
    if (first <= last) out.push({ first, last });
    if (x.last < y.last) i++;
    else j++;
  }
  return out;
}

/** One sweep: each range of `a` cut by the ranges of `b` that overlap it (both sorted). */
export function subtractSets(a: RangeSet, b: RangeSet): RangeSet {
  const out: Range[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]!.last < x.first) j++;
    let first = x.first;
    for (let k = j; k < b.length && b[k]!.first <= x.last && first <= x.last; k++) {
      const y = b[k]!;
      if (y.first > first) out.push({ first, last: y.first - 1n });
      if (y.last + 1n > first) first = y.last + 1n;
    }
    if (first <= x.last) out.push({ first, last: x.last });
  }
  return out;
}

export function unionSets(a: RangeSet, b: RangeSet): RangeSet {
  const all = [...a, ...b].sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  const out: Range[] = [];
  for (const r of all) {
    const prev = out[out.length - 1];
    if (prev && r.first <= prev.last + 1n) prev.last = maxOf(prev.last, r.last);
    else out.push({ ...r });
  }
  return out;
}

/** Where `set` lies relative to `r`: wholly inside, wholly outside, or both. */
export function relation(set: RangeSet, r: Range): "inside" | "outside" | "both" {
  let inside = false;
  let outside = false;
  for (const x of set) {
    if (x.last < r.first || x.first > r.last) outside = true;
    else {
      inside = true;
      if (x.first < r.first || x.last > r.last) outside = true;
    }
    if (inside && outside) return "both";
  }
  return inside ? "inside" : "outside";
}

export function sameSet(a: RangeSet, b: RangeSet): boolean {
  return (
    a.length === b.length && a.every((x, i) => x.first === b[i]!.first && x.last === b[i]!.last)
  );
}

/** IPv4 in plain numbers (exact below 2^53): bigint arithmetic costs ~50× more. */
function ipv4Cidrs(r: Range, limit: number): string[] {
  const out: string[] = [];
  let first = Number(r.first);
  const last = Number(r.last);
  while (first <= last && out.length < limit) {
    const v = first | 0;
    const aligned = first === 0 ? 2 ** 32 : (v & -v) >>> 0;
    const fits = 2 ** Math.floor(Math.log2(last - first + 1));
    const size = Math.min(aligned, fits);
    out.push(
      `${(first >>> 24) & 255}.${(first >>> 16) & 255}.${(first >>> 8) & 255}.${first & 255}/${32 - Math.log2(size)}`,
    );
    first += size;
  }
  return out;
}

/** The fewest CIDR blocks that cover exactly `r`, in address order (at most `limit` of them). */
export function rangeToCidrs(family: Family, r: Range, limit = Number.POSITIVE_INFINITY): string[] {
  if (family === "ipv4") return ipv4Cidrs(r, limit);
  const bits = BigInt(bitsOf(family));
  const out: string[] = [];
  let first = r.first;
  while (first <= r.last && out.length < limit) {
    let size = first === 0n ? 1n << bits : first & -first;
    while (first + size - 1n > r.last) size >>= 1n;
    let prefix = bits;
    for (let s = size; s > 1n; s >>= 1n) prefix--;
    out.push(`${formatIp(family, first)}/${prefix}`);
    first += size;
  }
  return out;
}

/**
 * CIDR text of a whole set, e.g. ["10.0.0.0/8", "192.168.0.0/16"]; undefined when it takes more
 * than `limit` blocks.
 */
export function setToCidrs(family: Family, set: RangeSet): string[];
export function setToCidrs(family: Family, set: RangeSet, limit: number): string[] | undefined;
export function setToCidrs(
  family: Family,
  set: RangeSet,
  limit = Number.POSITIVE_INFINITY,
): string[] | undefined {
  const out: string[] = [];
  for (const r of set) {
    out.push(...rangeToCidrs(family, r, limit - out.length + 1));
    if (out.length > limit) return undefined;
  }
  return out;
}

/** Blocks named in one difference's text; more are counted. */
const FEW_BLOCKS = 3;

/** A set as a difference names it: its first few CIDRs and how many more, e.g. "10.0.0.0/11 and 2 more". */
export function blocksText(family: Family, set: RangeSet): string {
  const all = setToCidrs(family, set, 64);
  if (!all) return "many blocks";
  const more = all.length > FEW_BLOCKS ? ` and ${all.length - FEW_BLOCKS} more` : "";
  return `${all.slice(0, FEW_BLOCKS).join(", ")}${more}`;
}
