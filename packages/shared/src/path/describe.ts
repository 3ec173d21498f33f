// Words for the path evaluator's findings: conditions ("source in 10.100.64.64/26"), rule
// references ("CNI-… rule 2 (CNI bridge plugin)"), and why a rule matched a packet, saying
// what is true even for negated matches ("1.1.1.1 is not in 8.8.8.8/32").
import type { Family, ParsedIp } from "../cidr.js";
import { markWords } from "./marks.js";
import type { RuleTest, Test } from "./matches.js";
import type { Packet } from "./packet.js";
import { fullRange, type RangeSet, setToCidrs, subtractSets } from "./range-set.js";
import type { Condition, RuleRef } from "./types.js";

/** Conditions made per test and sense: [when it does not hold, when it holds]. */
const conditions = new WeakMap<Test, [Condition | undefined, Condition | undefined]>();

/**
 * The condition a branch assumes when `t` holds (or not): one object per test and sense,
 * shared by every branch and node that assumes it (conditions are read only; tests of the
 * chains every node shares are shared too). Not kept for addresses: the walk records only
 * that one was assumed, and a node's own addresses would keep their words for as long as
 * its chains are kept.
 */
export function conditionOf(t: Test, holds: boolean): Condition {
  if (t.kind === "address" || t.kind === "address-set") return newCondition(t, holds);
  let pair = conditions.get(t);
  if (!pair) {
    pair = [undefined, undefined];
    conditions.set(t, pair);
  }
  const i = holds ? 1 : 0;
  const known = pair[i];
  if (known) return known;
  const made = newCondition(t, holds);
  pair[i] = made;
  return made;
}

function newCondition(t: Test, holds: boolean): Condition {
  const not = holds ? "" : "! ";
  switch (t.kind) {
    case "address":
    case "address-set":
      return {
        text: `${t.field} ${holds ? "in" : "not in"} ${t.text}`,
        key: `${t.field} ${t.text}`,
        holds,
        field: t.field,
      };
    case "protocol":
      return { text: `${not}-p ${t.text}`, key: `-p ${t.text}`, holds, field: "protocol" };
    case "protocols":
      return { text: `${not}${t.text}`, key: t.text, holds, field: "protocol" };
    case "port":
      return { text: `${holds ? "" : "not "}${t.text}`, key: t.text, holds, field: "dport" };
    case "mark":
      return { text: markWords(t.mark, holds), key: `mark ${t.text}`, holds, field: "mark" };
    case "non-local":
      return { text: `${not}${t.text}`, key: t.text, holds, field: "other" };
    case "opaque":
      return { text: `${not}${t.text}`, key: t.key, holds, field: "other" };
  }
}

/** Most CIDRs listed for "in" (before "not in" is tried), and for either. */
const FEW_CIDRS = 8;
const MOST_CIDRS = 256;

/**
 * One condition for what a branch assumed about an address field, from the set it ended with
 * (undefined for every address). A set that takes too many CIDRs either way is named by its
 * first blocks and how many more there are.
 */
function addressCondition(
  field: "source" | "destination",
  set: RangeSet,
  family: Family,
): Condition | undefined {
  const whole = fullRange(family);
  if (set.length === 1 && set[0]!.first === whole.first && set[0]!.last === whole.last)
    return undefined;
  const rest = subtractSets([whole], set);
  // Try the side with fewer ranges first: it is the one likely to take fewer CIDRs.
  const inside = rest.length < set.length ? undefined : setToCidrs(family, set, FEW_CIDRS);
  const outside = inside ? undefined : setToCidrs(family, rest, MOST_CIDRS);
  const holds = outside === undefined;
  const list = inside ?? outside ?? abbreviated(setToCidrs(family, set));
  const text = list.join(", ");
  return {
    text: `${field} ${holds ? "in" : "not in"} ${text}`,
    key: `${field} ${text}`,
    holds,
    field,
  };
}

function abbreviated(all: readonly string[]): string[] {
  return [...all.slice(0, FEW_CIDRS), `… ${all.length - FEW_CIDRS} more`];
}

/**
 * A branch's conditions for people and JSON: what it assumed about each address field said once,
 * from the addresses it ended with ("source in 10.244.0.7/32", not that and "source not in" every
 * other pod); fields it assumed nothing about stay out; the other conditions as assumed.
 */
export function branchConditions(
  conditions: readonly Condition[],
  sets: { source: RangeSet; destination: RangeSet },
  assumed: { source: boolean; destination: boolean },
  family: Family,
): Condition[] {
  const out: Condition[] = [];
  for (const field of ["source", "destination"] as const) {
    const c = assumed[field] ? addressCondition(field, sets[field], family) : undefined;
    if (c) out.push(c);
  }
  out.push(...conditions);
  return out;
}

/** A branch where a rule with several undecided matches did not match: not all of them hold. */
export function notAllCondition(tests: readonly RuleTest[]): Condition {
  const parts = tests.map((x) => conditionOf(x.test, !x.negated));
  const key = parts
    .map((p) => `${p.holds ? "" : "! "}${p.key}`)
    .sort()
    .join(" & ");
  return {
    text: `not all of: ${parts.map((p) => p.text).join(", ")}`,
    key,
    holds: false,
    field: "other",
  };
}

/** The condition of a branch that assumes an unread chain returns. */
export function returnsCondition(chain: string): Condition {
  return { text: `${chain} returns it`, key: `returns ${chain}`, holds: true, field: "chain" };
}

/** "IP-MASQ-AGENT rule 3", with the component when it is known: "… (ip-masq-agent)". */
export function describeRef(ref: RuleRef): string {
  const base = `${ref.chain} rule ${ref.index + 1}`;
  return ref.component.id === "unknown" ? base : `${base} (${ref.component.name})`;
}

function addressFact(ip: ParsedIp, t: Extract<Test, { kind: "address" }>, inside: boolean): string {
  return `${ip.text} is ${inside ? "in" : "not in"} ${t.text}`;
}

/** "10.1.2.3 is in @nonmasq_v4 (10.0.0.0/8)": the element that holds it, when it is in. */
function setFact(ip: ParsedIp, t: Extract<Test, { kind: "address-set" }>, inside: boolean): string {
  const hit = t.ranges.find((r) => r.first <= ip.value && ip.value <= r.last);
  const element = hit ? ` (${setToCidrs(ip.family, [hit], 4)?.join(", ") ?? "a range"})` : "";
  return `${ip.text} is ${inside ? `in ${t.text}${element}` : `not in ${t.text}`}`;
}

type AddressTest = Extract<Test, { kind: "address" | "address-set" }>;

/** An address test's fact, when the packet has that address. */
function addressTestFact(t: AddressTest, negated: boolean, p: Packet): string | undefined {
  const ip = t.field === "source" ? p.source : p.destination;
  if (!ip) return undefined;
  return t.kind === "address" ? addressFact(ip, t, !negated) : setFact(ip, t, !negated);
}

/** Why one decided test came out as it did for `p`, in words; undefined when `p` cannot say. */
function testFact(t: Test, negated: boolean, p: Packet): string | undefined {
  const not = negated ? "not " : "";
  switch (t.kind) {
    case "address":
    case "address-set":
      return addressTestFact(t, negated, p);
    case "protocol":
    case "protocols":
      return p.protocol === undefined ? undefined : `the protocol is ${not}${t.text}`;
    case "port":
      return p.dport === undefined
        ? undefined
        : `port ${p.dport} is ${not}in ${t.text.replace(/^dport /, "")}`;
    case "mark":
      return p.mark === undefined
        ? undefined
        : `mark 0x${p.mark.toString(16)} ${negated ? "does not match" : "matches"} ${t.text}`;
    case "non-local":
      return `the destination is ${not}a local address of the node (assumed for pod traffic to a remote address)`;
    default:
      return undefined;
  }
}

/** What made a rule's decided matches true for this packet, in words. */
export function explainMatch(tests: readonly RuleTest[], p: Packet): string[] {
  return tests.flatMap(({ test, negated }) => testFact(test, negated, p) ?? []);
}

/** Conditions for people: addresses merged per field, the rest as they are. */
export function describeConditions(conditions: readonly Condition[]): string[] {
  const out: string[] = [];
  for (const field of ["source", "destination"] as const) {
    const inside = conditions
      .filter((c) => c.field === field && c.holds)
      .map((c) => c.key.slice(field.length + 1));
    const outside = conditions
      .filter((c) => c.field === field && !c.holds)
      .map((c) => c.key.slice(field.length + 1));
    if (inside.length) out.push(`${field} in ${inside.join(" and ")}`);
    if (outside.length) out.push(`${field} not in ${outside.join(", ")}`);
  }
  // A protocol that holds says all there is: "-p udp" implies "! -p tcp".
  const protocol = conditions.filter((c) => c.field === "protocol");
  const chosen = protocol.filter((c) => c.holds);
  out.push(...(chosen.length > 0 ? chosen : protocol).map((c) => c.text));
  const rest = conditions.filter((c) => !["source", "destination", "protocol"].includes(c.field));
  out.push(...rest.map((c) => c.text));
  return out;
}
