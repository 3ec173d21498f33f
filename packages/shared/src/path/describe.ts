// Words for the path evaluator's findings: conditions ("source in 10.100.64.64/26"), rule
// references ("CNI-… rule 2 (CNI bridge plugin)"), and why a rule matched a packet, saying
// what is true even for negated matches ("1.1.1.1 is not in 8.8.8.8/32").
import type { Family, ParsedIp } from "../cidr.js";
import type { RuleTest, Test } from "./matches.js";
import type { Packet } from "./packet.js";
import { fullRange, type RangeSet, setToCidrs, subtractSets } from "./range-set.js";
import type { Condition, RuleRef } from "./types.js";

/** The condition a branch assumes when `t` holds (or not). */
export function conditionOf(t: Test, holds: boolean): Condition {
  const not = holds ? "" : "! ";
  switch (t.kind) {
    case "address":
      return {
        text: `${t.field} ${holds ? "in" : "not in"} ${t.text}`,
        key: `${t.field} ${t.text}`,
        holds,
        field: t.field,
      };
    case "protocol":
      return { text: `${not}-p ${t.text}`, key: `-p ${t.text}`, holds, field: "protocol" };
    case "port":
      return { text: `${holds ? "" : "not "}${t.text}`, key: t.text, holds, field: "dport" };
    case "mark":
      return { text: `${not}mark ${t.text}`, key: `mark ${t.text}`, holds, field: "mark" };
    case "non-local":
    case "opaque":
      return { text: `${not}${t.text}`, key: t.text, holds, field: "other" };
  }
}

/** Most CIDRs listed for "in" (before "not in" is tried), and for either. */
const FEW_CIDRS = 8;
const MOST_CIDRS = 256;

/**
 * One condition for what a branch assumed about an address field, from the set it ended with;
 * undefined when that set is every address or takes too many CIDRs to say (the assumptions
 * are kept as made then).
 */
function addressCondition(
  field: "source" | "destination",
  set: RangeSet,
  family: Family,
): Condition | null | undefined {
  const inside = setToCidrs(family, set, FEW_CIDRS);
  if (inside && inside.length === 1 && inside[0]!.endsWith("/0")) return null;
  const outside = inside
    ? undefined
    : setToCidrs(family, subtractSets([fullRange(family)], set), MOST_CIDRS);
  const list = inside ?? outside;
  if (!list) return undefined;
  const holds = inside !== undefined;
  return {
    text: `${field} ${holds ? "in" : "not in"} ${list.join(", ")}`,
    key: `${field} ${list.join(", ")}`,
    holds,
    field,
  };
}

/**
 * A branch's conditions for people and JSON: what it assumed about each address field said once,
 * from the addresses it ended with ("source in 10.244.0.7/32", not that and "source not in" every
 * other pod), the other conditions as assumed. Fields the branch assumed nothing about stay out.
 */
export function branchConditions(
  conditions: readonly Condition[],
  sets: { source: RangeSet; destination: RangeSet },
  family: Family,
): Condition[] {
  const out: Condition[] = [];
  for (const field of ["source", "destination"] as const) {
    const assumed = conditions.filter((c) => c.field === field);
    if (assumed.length === 0) continue;
    const c = addressCondition(field, sets[field], family);
    if (c === undefined) out.push(...assumed);
    else if (c) out.push(c);
  }
  out.push(...conditions.filter((c) => c.field !== "source" && c.field !== "destination"));
  return out;
}

/** A branch where a rule with several undecided matches did not match: not all of them hold. */
export function notAllCondition(tests: readonly RuleTest[]): Condition {
  const parts = tests.map((x) => conditionOf(x.test, !x.negated));
  const key = parts
    .map((p) => p.text)
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

/** What made a rule's decided matches true for this packet, in words. */
export function explainMatch(tests: readonly RuleTest[], p: Packet): string[] {
  const out: string[] = [];
  for (const { test: t, negated } of tests) {
    const inside = !negated;
    if (t.kind === "address") {
      const ip = t.field === "source" ? p.source : p.destination;
      if (ip) out.push(addressFact(ip, t, inside));
    } else if (t.kind === "protocol" && p.protocol !== undefined) {
      out.push(`the protocol is ${negated ? "not " : ""}${t.text}`);
    } else if (t.kind === "port" && p.dport !== undefined) {
      out.push(`port ${p.dport} is ${negated ? "not " : ""}in ${t.text.replace(/^dport /, "")}`);
    } else if (t.kind === "mark" && p.mark !== undefined) {
      out.push(`mark 0x${p.mark.toString(16)} ${negated ? "does not match" : "matches"} ${t.text}`);
    } else if (t.kind === "non-local") {
      out.push(
        `the destination is ${negated ? "not " : ""}a local address of the node (assumed for pod traffic to a remote address)`,
      );
    }
  }
  return out;
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
