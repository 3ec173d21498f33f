// POSTROUTING's jumps to the agent's chain (what the apply plan keeps or deletes), and the
// POSTROUTING rules before the first jump that decide some packets first (from the path).
import type { Family } from "../cidr.js";
import { behaviourKey, type ParsedRule, parseIptables } from "../parser.js";
import type { PathOutcome } from "../path/types.js";
import { jumpRuleLine, NAT_TABLE, POSTROUTING } from "../rules.js";
import { conditionsOf } from "./chain.js";

export interface JumpInfo {
  index: number;
  rule: ParsedRule;
  /** Same behaviour as upstream's jump (comment text may differ). */
  canonical: boolean;
  /** Exactly upstream's jump text. */
  exact: boolean;
  conditions: string[];
}

export interface Shadow {
  index: number;
  rule: ParsedRule;
  effect: "masquerade" | "accept" | "unknown";
  /** "all": every non-local destination; "some": only some destinations; "maybe": depends on other packet fields. */
  reach: "all" | "some" | "maybe";
}

const CANONICAL_JUMP_KEYS = new Map<string, string>();
function canonicalJumpKey(chain: string): string {
  let key = CANONICAL_JUMP_KEYS.get(chain);
  if (key === undefined) {
    const rule = parseIptables(jumpRuleLine(chain)).ruleset.tables.get(NAT_TABLE)?.get(POSTROUTING)
      ?.rules[0];
    key = rule ? behaviourKey(rule) : "";
    if (CANONICAL_JUMP_KEYS.size > 64) CANONICAL_JUMP_KEYS.clear();
    CANONICAL_JUMP_KEYS.set(chain, key);
  }
  return key;
}

/** POSTROUTING rules that jump (or go) to the agent's chain. */
export function findJumps(rules: readonly ParsedRule[], chain: string, family: Family): JumpInfo[] {
  const exactText = jumpRuleLine(chain);
  const key = canonicalJumpKey(chain);
  const jumps: JumpInfo[] = [];
  rules.forEach((rule, index) => {
    if (rule.target !== chain) return;
    const cond = conditionsOf(rule, family);
    const conditions = [
      ...(cond.dst ? [`${cond.dst.negated ? "! " : ""}-d ${cond.dst.cidr.canonical}`] : []),
      ...(cond.protocol ? [`-p ${cond.protocol}`] : []),
      ...(cond.probability !== undefined ? [`-m statistic --probability ${cond.probability}`] : []),
      ...cond.other,
    ];
    jumps.push({
      index,
      rule,
      canonical: behaviourKey(rule) === key,
      exact: rule.text === exactText,
      conditions,
    });
  });
  return jumps;
}

function effectOf(o: PathOutcome): Shadow["effect"] {
  if (o.result === "masquerade" || o.result === "snat") return "masquerade";
  return o.result === "unknown" ? "unknown" : "accept";
}

function reachOf(o: PathOutcome): Shadow["reach"] {
  if (o.conditions.length === 0) return "all";
  return o.conditions.every((c) => c.field === "destination") ? "some" : "maybe";
}

/**
 * Whether an outcome is decided by a POSTROUTING rule before the first jump to the agent's
 * chain (POSTROUTING's policy is no rule).
 */
function decidedBeforeJump(
  o: PathOutcome,
  firstJump: number,
): o is PathOutcome & { entry: number } {
  if (o.agent !== "before" || o.entry === undefined || o.entry >= firstJump) return false;
  return o.result !== "accept" || o.decidedBy !== undefined;
}

/** Two branches through one rule: it reaches all packets if either says so, else maybe. */
function widerReach(a: Shadow["reach"], b: Shadow["reach"]): Shadow["reach"] {
  if (a === b) return a;
  return a === "all" || b === "all" ? "all" : "maybe";
}

/**
 * POSTROUTING rules before the first jump through which some packets are decided (NAT'd,
 * accepted, or sent to a chain that was not read) before they can reach the agent's chain.
 */
export function shadowsOf(
  postrouting: readonly ParsedRule[],
  jumps: readonly JumpInfo[],
  outcomes: readonly PathOutcome[],
): Shadow[] {
  const firstJump = jumps[0]?.index ?? postrouting.length;
  const seen = new Map<string, Shadow>();
  for (const o of outcomes) {
    const rule = decidedBeforeJump(o, firstJump) ? postrouting[o.entry] : undefined;
    if (!rule) continue;
    const effect = effectOf(o);
    const reach = reachOf(o);
    const key = `${o.entry}|${effect}`;
    const prev = seen.get(key);
    if (prev) prev.reach = widerReach(prev.reach, reach);
    else seen.set(key, { index: o.entry!, rule, effect, reach });
  }
  return [...seen.values()].sort((a, b) => a.index - b.index);
}
