// Set elements of libnftables JSON (`10.0.0.1`, `{"prefix": …}`, `{"range": […]}`, `{"elem": …}`)
// as address ranges of one family, parsed once per set and family.
import { type Family, mergeRanges, parseIp, type Range } from "../cidr.js";
import type { RangeSet } from "../path/range-set.js";
import { kindOf } from "./text.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** `{"prefix": {"addr": …, "len": …}}` of the family as a range. */
function prefixRange(body: Obj, family: Family): Range | undefined {
  const { addr, len } = body;
  const ip = typeof addr === "string" ? parseIp(addr) : null;
  const bits = family === "ipv4" ? 32 : 128;
  if (!ip || ip.family !== family || typeof len !== "number" || len < 0 || len > bits)
    return undefined;
  const size = 1n << BigInt(bits - len);
  const first = ip.value - (ip.value % size);
  return { first, last: first + size - 1n };
}

/** `{"range": [low, high]}` of the family as a range (low not past high). */
function pairRange(body: readonly unknown[], family: Family): Range | undefined {
  const a = elementRange(body[0], family);
  const b = elementRange(body[1], family);
  return a && b && a.first <= b.last ? { first: a.first, last: b.last } : undefined;
}

/** An address element (`10.0.0.1`, prefix, range, `{elem: …}`) of the family as a range. */
export function elementRange(e: unknown, family: Family): Range | undefined {
  if (typeof e === "string") {
    const ip = parseIp(e);
    return ip && ip.family === family ? { first: ip.value, last: ip.value } : undefined;
  }
  const [kind, body] = kindOf(e) ?? [];
  if (kind === "range") return Array.isArray(body) ? pairRange(body, family) : undefined;
  if (!isObj(body)) return undefined;
  if (kind === "elem") return elementRange(body.val, family);
  return kind === "prefix" ? prefixRange(body, family) : undefined;
}

/** A set's elements parsed once per family (the analysis, drift and node view all read them). */
const parsedElements = new WeakMap<readonly unknown[], Map<Family, RangeSet | undefined>>();

/** Address elements as one range set; undefined when one is not an address of the family. */
export function elementsRanges(elems: readonly unknown[], family: Family): RangeSet | undefined {
  let byFamily = parsedElements.get(elems);
  if (!byFamily) {
    byFamily = new Map();
    parsedElements.set(elems, byFamily);
  }
  if (byFamily.has(family)) return byFamily.get(family);
  const ranges = parseElements(elems, family);
  byFamily.set(family, ranges);
  return ranges;
}

export function parseElements(elems: readonly unknown[], family: Family): RangeSet | undefined {
  const ranges: Range[] = [];
  for (const e of elems) {
    const r = elementRange(e, family);
    if (!r) return undefined;
    ranges.push(r);
  }
  return mergeRanges(ranges);
}
