// What one path knows about its packet: the given fields, plus everything assumed at the
// branches taken so far. Immutable: a branch builds a new Facts, so forks share nothing.
import type { Range } from "../cidr.js";
import { assumeMark, decideMark, knownMark, type MarkState, UNKNOWN_MARK } from "./marks.js";
import type { Test } from "./matches.js";
import type { Packet } from "./packet.js";
import {
  fullRange,
  intersectRange,
  intersectSets,
  type RangeSet,
  relation,
  subtractRange,
  subtractSets,
} from "./range-set.js";

export interface Facts {
  source: RangeSet;
  destination: RangeSet;
  protocol?: number;
  notProtocols: readonly number[];
  dport?: number;
  mark: MarkState;
  /** Opaque conditions (and destination ports, when not given) assumed so far. */
  opaque: ReadonlyMap<string, boolean>;
  /**
   * Conjunctions of conditions known not to hold together (a rule with several that failed),
   * with what they depend on, so a target that changes it (MARK, CONNMARK, SET) forgets them.
   */
  failed: ReadonlyMap<string, FactDeps>;
}

/** What a remembered fact depends on: mark bits, and match modules whose state targets change. */
export interface FactDeps {
  markMask: number;
  modules: readonly string[];
}

/** What a target changes: mark bits, or the state a match module reads (connmark, set). */
export interface Change {
  markMask?: number;
  module?: string;
}

/** A copy of the facts to change one field of (field by field: spreads cost more, per fork). */
function copyOf(f: Facts): Facts {
  return {
    source: f.source,
    destination: f.destination,
    protocol: f.protocol,
    notProtocols: f.notProtocols,
    dport: f.dport,
    mark: f.mark,
    opaque: f.opaque,
    failed: f.failed,
  };
}

/** The facts with `field` replaced. */
export function withFact<K extends keyof Facts>(f: Facts, field: K, value: Facts[K]): Facts {
  const next = copyOf(f);
  next[field] = value;
  return next;
}

function point(value: bigint): Range {
  return { first: value, last: value };
}

export function initialFacts(p: Packet): Facts {
  const all = [fullRange(p.family)];
  return {
    source: p.source ? [point(p.source.value)] : all,
    destination: p.destination ? [point(p.destination.value)] : all,
    protocol: p.protocol,
    notProtocols: [],
    dport: p.dport,
    mark: p.mark === undefined ? UNKNOWN_MARK : knownMark(p.mark),
    opaque: new Map(),
    failed: new Map(),
  };
}

function inRanges(ranges: [number, number][], n: number): boolean {
  return ranges.some(([a, b]) => a <= n && n <= b);
}

type AddressTest = Extract<Test, { kind: "address" | "address-set" }>;

/** The addresses the branch may still have in the test's field. */
const addressesOf = (f: Facts, t: AddressTest): RangeSet =>
  t.field === "source" ? f.source : f.destination;

function decideAddress(f: Facts, t: AddressTest): boolean | undefined {
  if (t.kind === "address") {
    const r = relation(addressesOf(f, t), t.range);
    return r === "both" ? undefined : r === "inside";
  }
  const set = addressesOf(f, t);
  if (intersectSets(set, t.ranges).length === 0) return false;
  return subtractSets(set, t.ranges).length === 0 ? true : undefined;
}

function decideProtocols(f: Facts, t: Extract<Test, { kind: "protocols" }>): boolean | undefined {
  if (f.protocol !== undefined) return t.protocols.includes(f.protocol);
  if (t.protocols.every((p) => f.notProtocols.includes(p))) return false;
  return f.opaque.get(t.text);
}

/** Whether the (un-negated) test holds, or undefined when the facts do not decide it. */
export function decide(f: Facts, t: Test): boolean | undefined {
  switch (t.kind) {
    case "address":
    case "address-set":
      return decideAddress(f, t);
    case "protocol":
      if (f.protocol !== undefined) return f.protocol === t.protocol;
      return f.notProtocols.includes(t.protocol) ? false : undefined;
    case "protocols":
      return decideProtocols(f, t);
    case "port":
      return f.dport !== undefined ? inRanges(t.ranges, f.dport) : f.opaque.get(t.text);
    case "mark":
      return decideMark(f.mark, t.mark);
    case "non-local":
      return false; // `--dst-type LOCAL`: the destination is not one of the node's addresses
    case "opaque":
      return f.opaque.get(t.key);
  }
}

/** The branch's addresses in the test's field narrowed to where it holds (or not). */
function assumeAddress(f: Facts, t: AddressTest, holds: boolean): Facts | null {
  const set = addressesOf(f, t);
  const next =
    t.kind === "address"
      ? (holds ? intersectRange : subtractRange)(set, t.range)
      : (holds ? intersectSets : subtractSets)(set, t.ranges);
  if (next.length === 0) return null;
  return withFact(f, t.field, next);
}

/** The facts with one more opaque answer (a port or condition the packet does not give). */
function withOpaque(f: Facts, key: string, holds: boolean): Facts {
  const opaque = new Map(f.opaque);
  opaque.set(key, holds);
  return withFact(f, "opaque", opaque);
}

/** The facts on the branch where the test holds (or not); null when that branch cannot be. */
export function assume(f: Facts, t: Test, holds: boolean): Facts | null {
  const d = decide(f, t);
  if (d !== undefined) return d === holds ? f : null;
  switch (t.kind) {
    case "address":
    case "address-set":
      return assumeAddress(f, t, holds);
    case "protocol":
      return holds
        ? withFact(f, "protocol", t.protocol)
        : withFact(f, "notProtocols", [...f.notProtocols, t.protocol]);
    case "mark": {
      const mark = assumeMark(f.mark, t.mark, holds);
      return mark ? withFact(f, "mark", mark) : null;
    }
    case "protocols":
      return holds
        ? withOpaque(f, t.text, true)
        : withFact(f, "notProtocols", [...f.notProtocols, ...t.protocols]);
    case "port":
      return withOpaque(f, t.text, holds);
    case "opaque":
      return withOpaque(f, t.key, holds);
    case "non-local":
      return null; // decided above; never reached
  }
}

/** Records that these conditions (keys) do not all hold together. */
export function assumeNotAll(f: Facts, key: string, deps: FactDeps): Facts {
  const failed = new Map(f.failed);
  failed.set(key, deps);
  return withFact(f, "failed", failed);
}

/** What the tests of a conjunction depend on. */
export function depsOf(tests: readonly Test[]): FactDeps {
  let markMask = 0;
  const modules: string[] = [];
  for (const t of tests) {
    if (t.kind === "mark") markMask = (markMask | t.mark.mask) >>> 0;
    else if (t.kind === "opaque" && t.module) modules.push(t.module);
  }
  return { markMask, modules };
}

/**
 * The facts after a target changed the packet's mark bits or a module's state: every
 * conjunction and opaque fact that read them is forgotten, so later tests are decided anew.
 */
export function forgetChanged(f: Facts, c: Change): Facts {
  const mask = c.markMask ?? 0;
  const hit = (d: FactDeps) =>
    (d.markMask & mask) >>> 0 !== 0 || (c.module !== undefined && d.modules.includes(c.module));
  const failed = new Map([...f.failed].filter(([, d]) => !hit(d)));
  const prefix = c.module === undefined ? undefined : `-m ${c.module} `;
  const opaque = prefix ? new Map([...f.opaque].filter(([k]) => !k.startsWith(prefix))) : f.opaque;
  const next = withFact(f, "failed", failed);
  next.opaque = opaque;
  return next;
}
