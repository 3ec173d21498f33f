// Runs the path evaluator over what one analysis read: from POSTROUTING when it was read, from
// the agent's chain alone when only that chain was given, with chains that were not read
// treated as unknown.
import type { Family } from "../cidr.js";
import type { ParsedChain, Ruleset } from "../parser.js";
import { chainComponent } from "../path/components.js";
import type { Packet } from "../path/packet.js";
import { fullRange } from "../path/range-set.js";
import type { PathChain, PathOutcome } from "../path/types.js";
import { type PathLimits, type WalkResult, walkPath } from "../path/walk.js";
import { NAT_TABLE, POSTROUTING } from "../rules.js";

/** What the path evaluator needs from an analysis. */
export interface PathSource {
  family: Family;
  chain: string;
  chains: ReadonlyMap<string, ParsedChain>;
  postroutingRead: boolean;
  unread: readonly string[];
  /** The base chain packets enter when it is not POSTROUTING (an nftables base chain). */
  start?: string;
}

export function natChains(ruleset: Ruleset): ReadonlyMap<string, ParsedChain> {
  return ruleset.tables.get(NAT_TABLE) ?? new Map();
}

function nothingRead(s: PathSource, packet: Packet): WalkResult {
  const message = `neither ${POSTROUTING} nor ${s.chain} is in the input`;
  const all = [fullRange(s.family)];
  const outcome: PathOutcome = {
    result: "unknown",
    masqueraded: null,
    conditions: [],
    reason: message,
    because: [],
    via: [],
    agent: "before",
    source: packet.source ? [{ first: packet.source.value, last: packet.source.value }] : all,
    destination: packet.destination
      ? [{ first: packet.destination.value, last: packet.destination.value }]
      : all,
  };
  return { outcomes: [outcome], reached: [], unknowns: [{ kind: "postrouting-missing", message }] };
}

/** Every way `packet` can go through the nat chains `s` read. */
export function runPath(s: PathSource, packet: Packet, limits?: Partial<PathLimits>): WalkResult {
  const agentRead = s.chains.has(s.chain);
  if (!s.postroutingRead && !agentRead) return nothingRead(s, packet);
  const r = walkPath({
    chains: s.chains,
    family: s.family,
    start: s.postroutingRead ? (s.start ?? POSTROUTING) : s.chain,
    startIsBase: s.postroutingRead,
    agentChain: s.chain,
    unread: new Set(s.unread),
    packet,
    limits,
  });
  if (!s.postroutingRead)
    r.unknowns.unshift({
      kind: "postrouting-missing",
      message: `${POSTROUTING} is not in the input: the answer is for ${s.chain} alone, as if ${POSTROUTING} jumps to it`,
    });
  return r;
}

/** Reached chains in rule order: breadth first from the start chain, as its rules reference them. */
function ruleOrder(s: PathSource, start: string, reached: ReadonlySet<string>): string[] {
  const order = [start];
  const seen = new Set(order);
  for (let i = 0; i < order.length; i++)
    for (const rule of s.chains.get(order[i]!)?.rules ?? []) {
      const t = rule.target;
      if (t !== undefined && reached.has(t) && !seen.has(t)) {
        seen.add(t);
        order.push(t);
      }
    }
  return order.filter((c) => reached.has(c));
}

/** The chains a walk reached, with their components, in the order POSTROUTING's rules reach them. */
export function pathChains(s: PathSource, reached: readonly string[]): PathChain[] {
  const unread = new Set(s.unread);
  const start = s.postroutingRead ? (s.start ?? POSTROUTING) : s.chain;
  return ruleOrder(s, start, new Set(reached)).map((name) => {
    const c = unread.has(name) ? undefined : s.chains.get(name);
    return {
      name,
      component: chainComponent(name, s.chain),
      read: c !== undefined,
      rules: c?.rules.length ?? 0,
    };
  });
}
