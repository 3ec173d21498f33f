// The path of a packet through nat POSTROUTING, as the kernel's ipt_do_table walks it: rules in
// order, `-j CHAIN` calls (RETURN or the chain's end comes back), `-g CHAIN` gotos (their
// return goes to the caller of the chain that jumped), ACCEPT/MASQUERADE/SNAT end the table,
// the base chain's end applies its policy. A match the packet's known fields cannot decide
// forks the path: one branch where it holds, one where it does not. Bounded in call depth,
// branches and rule visits; a bound hit is an unknown outcome that says so.
import type { Family } from "../cidr.js";
import type { ParsedChain, ParsedRule } from "../parser.js";
import { ruleComponent } from "./components.js";
import {
  branchConditions,
  conditionOf,
  explainMatch,
  notAllCondition,
  returnsCondition,
} from "./describe.js";
import {
  assume,
  assumeNotAll,
  decide,
  depsOf,
  type Facts,
  forgetChanged,
  initialFacts,
  withFact,
} from "./facts.js";
import { forgetBits, setXmark } from "./marks.js";
import { type CompiledRule, compileChain, compileRule, type RuleTest } from "./matches.js";
import type { Packet } from "./packet.js";
import { type TargetAction, targetAction } from "./targets.js";
import type { Condition, OutcomeResult, PathOutcome, RuleRef, Unknown } from "./types.js";

export interface PathLimits {
  /** Chains deep (nf_tables allows 16 nested jumps, NFT_JUMP_STACK_SIZE; loops never end). */
  maxDepth: number;
  /** Branches made in all: each match the packet cannot decide may add one. */
  maxBranches: number;
  /**
   * Work over all paths: rule visits, plus the facts a fork carries over (a branch that has
   * assumed n things copies them), so a long chain of undecidable rules stays bounded.
   */
  maxSteps: number;
}

export const PATH_LIMITS: PathLimits = { maxDepth: 32, maxBranches: 4096, maxSteps: 100_000 };

export interface WalkInput {
  /** The nat table's chains that were read. */
  chains: ReadonlyMap<string, ParsedChain>;
  family: Family;
  /** Where packets enter: POSTROUTING, or the agent's chain when POSTROUTING was not read. */
  start: string;
  /** True when `start` is POSTROUTING (its policy applies at its end). */
  startIsBase: boolean;
  agentChain: string;
  /** Chains known to exist but not read. */
  unread: ReadonlySet<string>;
  packet: Packet;
  limits?: Partial<PathLimits>;
}

export interface WalkResult {
  outcomes: PathOutcome[];
  /** Chains entered (read ones) or reached (unread ones), in first-reached order. */
  reached: string[];
  unknowns: Unknown[];
}

interface Frame {
  chain: string;
  rules: readonly ParsedRule[];
  /** compileRule of each of `rules`, in order. */
  compiled: readonly CompiledRule[];
  index: number;
}

/** A RETURN rule taken (described only if it ends up deciding). */
interface Exit {
  rule: ParsedRule;
  index: number;
}

/** Conditions as a shared list, newest first: a fork costs nothing. */
interface Conditions {
  head: Condition;
  tail?: Conditions;
  size: number;
}

/** Conditions listed per outcome; the rest are counted ("and N more"). */
export const MAX_LISTED_CONDITIONS = 16;

interface Branch {
  facts: Facts;
  /** Assumptions other than addresses (those are read from facts at the end). */
  conditions?: Conditions;
  /** Whether the branch assumed anything about the source / the destination. */
  assumed: { source: boolean; destination: boolean };
  stack: Frame[];
  via: string[];
  agent: PathOutcome["agent"];
  /** Stack depth of the agent's chain while inside it. */
  agentDepth: number;
  /** How the agent's chain was left: by a RETURN rule, or by its end. */
  agentExit?: Exit | "end";
  /** The last RETURN rule taken. */
  lastReturn?: Exit;
  /** Index of the start chain's rule the branch is in. */
  entry?: number;
}

interface Walk {
  input: WalkInput;
  limits: PathLimits;
  steps: number;
  branches: number;
  outcomes: PathOutcome[];
  reached: Set<string>;
  unknowns: Map<string, Unknown>;
  work: Branch[];
  refs: Map<ParsedRule, RuleRef>;
}

function refOf(w: Walk, rule: ParsedRule, index: number): RuleRef {
  let ref = w.refs.get(rule);
  if (!ref) {
    ref = {
      chain: rule.chain,
      index,
      text: rule.text,
      component: ruleComponent(rule, w.input.agentChain),
    };
    w.refs.set(rule, ref);
  }
  return ref;
}

function because(w: Walk, rule: ParsedRule): string[] {
  return explainMatch(compileRule(rule, w.input.family).tests, w.input.packet);
}

function withCondition(list: Conditions | undefined, c: Condition): Conditions {
  return { head: c, tail: list, size: (list?.size ?? 0) + 1 };
}

/**
 * The conditions in the order assumed; past MAX_LISTED_CONDITIONS only the newest (the ones
 * nearest the decision), after a count of the earlier ones.
 */
function conditionList(list: Conditions | undefined): Condition[] {
  const out: Condition[] = [];
  let l = list;
  for (; l && out.length < MAX_LISTED_CONDITIONS; l = l.tail) out.push(l.head);
  out.reverse();
  const earlier = l?.size ?? 0;
  if (earlier > 0) {
    const text = `${earlier} earlier conditions`;
    out.unshift({ text, key: text, holds: true, field: "other" });
  }
  return out;
}

function note(w: Walk, u: Unknown): void {
  const key = `${u.kind} ${u.message}`;
  if (!w.unknowns.has(key)) w.unknowns.set(key, u);
}

function finish(
  w: Walk,
  b: Branch,
  result: OutcomeResult,
  reason: string,
  extra: { decidedBy?: RuleRef; toSource?: string; because?: string[] } = {},
): void {
  w.outcomes.push({
    result,
    masqueraded: result === "unknown" ? null : result === "masquerade" || result === "snat",
    conditions: branchConditions(conditionList(b.conditions), b.facts, b.assumed, w.input.family),
    decidedBy: extra.decidedBy,
    toSource: extra.toSource,
    reason,
    because: extra.because ?? [],
    via: b.via,
    agent: b.agent,
    entry: b.entry,
    source: b.facts.source,
    destination: b.facts.destination,
  });
}

/** Records an assumption: addresses as a flag (the facts hold them), the rest in the list. */
function assumeOn(b: Branch, c: Condition): void {
  if (c.field === "source") {
    if (!b.assumed.source) b.assumed = { source: true, destination: b.assumed.destination };
  } else if (c.field === "destination") {
    if (!b.assumed.destination) b.assumed = { source: b.assumed.source, destination: true };
  } else b.conditions = withCondition(b.conditions, c);
}

/**
 * A copy of the branch to go on separately: its own stack frames and chains entered, the rest
 * (immutable) shared. Field by field, not spread: forks are the walk's most frequent copy.
 */
function fork(b: Branch, facts: Facts, condition?: Condition): Branch {
  const stack: Frame[] = new Array(b.stack.length);
  for (let i = 0; i < stack.length; i++) {
    const x = b.stack[i]!;
    stack[i] = { chain: x.chain, rules: x.rules, compiled: x.compiled, index: x.index };
  }
  const f: Branch = {
    facts,
    conditions: b.conditions,
    assumed: b.assumed,
    stack,
    via: b.via.slice(),
    agent: b.agent,
    agentDepth: b.agentDepth,
    agentExit: b.agentExit,
    lastReturn: b.lastReturn,
    entry: b.entry,
  };
  if (condition) assumeOn(f, condition);
  return f;
}

function enter(w: Walk, b: Branch, chain: string): void {
  w.reached.add(chain);
  const rules = w.input.chains.get(chain)?.rules ?? [];
  b.stack.push({ chain, rules, compiled: compileChain(rules, w.input.family), index: 0 });
  b.via.push(chain);
  if (chain === w.input.agentChain) {
    b.agent = "inside";
    b.agentDepth = b.stack.length;
    b.agentExit = undefined;
  }
}

function leave(b: Branch, exit: Exit | "end"): void {
  b.stack.pop();
  if (b.agent === "inside" && b.stack.length < b.agentDepth) {
    b.agent = "after";
    b.agentExit = exit;
  }
}

type MatchResult = { kind: "no" } | { kind: "yes"; facts: Facts };

/** The facts where every pending test comes out as the rule requires; null when none can. */
function assumeAll(facts: Facts, pending: readonly RuleTest[]): Facts | null {
  let yes: Facts | null = facts;
  for (const p of pending) yes = yes && assume(yes, p.test, !p.negated);
  return yes;
}

/**
 * Queues the branch on which the rule does not match, past the rule (or, past the bound on
 * branches, ends it as not followed).
 */
function pushOtherBranch(w: Walk, b: Branch, facts: Facts, condition: Condition | undefined) {
  // The fork copies what the branch assumed: that is work too.
  w.steps += b.facts.opaque.size + b.facts.failed.size;
  const other = fork(b, facts, condition);
  other.stack[other.stack.length - 1]!.index++;
  if (++w.branches <= w.limits.maxBranches) {
    w.work.push(other);
    return;
  }
  note(w, {
    kind: "bound",
    message: `more than ${w.limits.maxBranches} paths: some were not followed`,
  });
  finish(w, other, "unknown", `not followed: more than ${w.limits.maxBranches} paths`);
}

/** The tests the branch's facts do not decide; "no" when one decides against the rule. */
function undecidedTests(facts: Facts, tests: readonly RuleTest[]): RuleTest[] | "no" {
  const pending: RuleTest[] = [];
  for (const rt of tests) {
    const d = decide(facts, rt.test);
    if (d === undefined) pending.push(rt);
    else if (d === rt.negated) return "no";
  }
  return pending;
}

/** Decides the rule for this branch, pushing the other branch when the packet could go both ways. */
function match(w: Walk, b: Branch, compiled: CompiledRule): MatchResult {
  if (compiled.matchesNothing) return { kind: "no" };
  const pending = undecidedTests(b.facts, compiled.tests);
  if (pending === "no") return { kind: "no" };
  if (pending.length === 0) return { kind: "yes", facts: b.facts };
  const only = pending.length === 1 ? pending[0]! : undefined;
  const all = only ? undefined : notAllCondition(pending);
  if (all && b.facts.failed.has(all.key)) return { kind: "no" };
  const yes = assumeAll(b.facts, pending);
  const no = only
    ? assume(b.facts, only.test, only.negated)
    : assumeNotAll(b.facts, all!.key, depsOf(pending.map((p) => p.test)));
  if (!yes) return { kind: "no" };
  if (!no) return { kind: "yes", facts: yes };
  pushOtherBranch(w, b, no, only ? conditionOf(only.test, only.negated) : all);
  for (const p of pending) assumeOn(b, conditionOf(p.test, !p.negated));
  return { kind: "yes", facts: yes };
}

/** The end of the start chain: POSTROUTING's policy, or "returns" for a chain read alone. */
function endOfStart(w: Walk, b: Branch): void {
  const { start, startIsBase } = w.input;
  const exit = b.agentExit;
  const by = b.agent === "after" && exit !== undefined ? exit : b.lastReturn;
  const decidedBy = by === undefined || by === "end" ? undefined : refOf(w, by.rule, by.index);
  const why = by === undefined || by === "end" ? [] : because(w, by.rule);
  const how =
    b.agent === "after" && exit === "end"
      ? `no rule of ${w.input.agentChain} NATs it`
      : decidedBy
        ? `${decidedBy.chain} rule ${decidedBy.index + 1} returns it`
        : `no rule NATs it`;
  if (!startIsBase) {
    finish(
      w,
      b,
      "return",
      `${how}; ${start} returns (POSTROUTING is not in the input: what it does next is unknown)`,
      { decidedBy, because: why },
    );
    return;
  }
  const policy = w.input.chains.get(start)?.policy ?? "ACCEPT";
  if (policy !== "ACCEPT") {
    finish(w, b, "unknown", `${start}'s policy is ${policy}`, { decidedBy, because: why });
    return;
  }
  finish(
    w,
    b,
    "accept",
    `${how}; nothing on its way through ${start} NATs it, so it keeps its source address`,
    { decidedBy, because: why },
  );
}

function unreadChain(
  w: Walk,
  b: Branch,
  rule: ParsedRule,
  index: number,
  act: { chain: string; goto: boolean },
): void {
  w.reached.add(act.chain);
  const present = w.input.chains.has(act.chain) ? "was not read" : "is not in the input";
  note(w, {
    kind: "unread-chain",
    chain: act.chain,
    message: `${act.chain} ${present}: what it does to packets is unknown`,
  });
  const ref = refOf(w, rule, index);
  finish(
    w,
    fork(b, b.facts),
    "unknown",
    `${ref.chain} rule ${index + 1} sends it to ${act.chain}, which ${present}`,
    { decidedBy: ref },
  );
  // The other way on: the chain returns without deciding, and the rest of the path applies.
  if (++w.branches > w.limits.maxBranches) {
    note(w, {
      kind: "bound",
      message: `more than ${w.limits.maxBranches} paths: some were not followed`,
    });
    return;
  }
  assumeOn(b, returnsCondition(act.chain));
  if (act.goto) leave(b, "end");
  else b.stack[b.stack.length - 1]!.index++;
  w.work.push(b);
}

/** Applies a matching rule's target; returns false when the branch ended. */
function apply(w: Walk, b: Branch, rule: ParsedRule, index: number, act: TargetAction): boolean {
  const frame = b.stack[b.stack.length - 1]!;
  switch (act.kind) {
    case "continue":
      frame.index++;
      return true;
    case "mark": {
      // Bits in the mask are set, known bits outside it flip where the value has ones.
      const markMask = (act.mask | act.value) >>> 0;
      const facts = forgetChanged(b.facts, { markMask });
      b.facts = withFact(facts, "mark", setXmark(b.facts.mark, act.value, act.mask));
      frame.index++;
      return true;
    }
    case "forget-mark": {
      const facts = forgetChanged(b.facts, { markMask: act.mask });
      b.facts = withFact(facts, "mark", forgetBits(b.facts.mark, act.mask));
      frame.index++;
      return true;
    }
    case "forget-state":
      b.facts = forgetChanged(b.facts, { module: act.module });
      frame.index++;
      return true;
    case "chain":
      if (b.stack.length >= w.limits.maxDepth) {
        note(w, { kind: "bound", message: `chains nested deeper than ${w.limits.maxDepth}` });
        finish(w, b, "unknown", `${act.chain} is nested deeper than ${w.limits.maxDepth} chains`, {
          decidedBy: refOf(w, rule, index),
        });
        return false;
      }
      frame.index++;
      // A goto replaces the current frame: the chain's end returns to the caller's caller.
      if (act.goto) b.stack.pop();
      enter(w, b, act.chain);
      return true;
    case "return": {
      const exit = { rule, index };
      b.lastReturn = exit;
      leave(b, exit);
      return true;
    }
    case "accept":
      finish(
        w,
        b,
        "accept",
        `${rule.chain} rule ${index + 1} accepts it: the nat table leaves the source alone`,
        { decidedBy: refOf(w, rule, index), because: because(w, rule) },
      );
      return false;
    case "nat": {
      const by = `${rule.chain} rule ${index + 1}`;
      const reason =
        act.nat === "masquerade"
          ? `${by} masquerades it`
          : `${by} translates the source to ${act.toSource ?? "another address"}`;
      finish(w, b, act.nat === "masquerade" ? "masquerade" : "snat", reason, {
        decidedBy: refOf(w, rule, index),
        toSource: act.toSource,
        because: because(w, rule),
      });
      return false;
    }
    case "stop":
      note(w, {
        kind: "target",
        chain: rule.chain,
        message: `${rule.chain} rule ${index + 1}: ${act.reason}`,
      });
      finish(w, b, "unknown", `${rule.chain} rule ${index + 1}: ${act.reason}`, {
        decidedBy: refOf(w, rule, index),
      });
      return false;
    case "unread":
      unreadChain(w, b, rule, index, act);
      return false;
  }
}

/** A rule the parser could not read acts in the kernel all the same: what it does is unknown. */
function unreadableRule(w: Walk, b: Branch, rule: ParsedRule, index: number): void {
  const where = rule.syntax === "nft" ? `handle ${rule.line}` : `input line ${rule.line}`;
  const at = `${rule.chain} rule ${index + 1} (${where})`;
  const verb = rule.syntax === "nft" ? "is not understood" : "could not be read";
  const message = `${at} ${verb} (${rule.unreadable}): what it does to packets is unknown`;
  note(w, { kind: "unreadable-rule", chain: rule.chain, message });
  finish(w, b, "unknown", message, { decidedBy: refOf(w, rule, index) });
}

function run(w: Walk, b: Branch): void {
  for (;;) {
    if (++w.steps > w.limits.maxSteps) {
      note(w, {
        kind: "bound",
        message: `more than ${w.limits.maxSteps} rule visits (and facts carried over at forks): the rest was not followed`,
      });
      finish(
        w,
        b,
        "unknown",
        `not followed: more than ${w.limits.maxSteps} rule visits (and facts carried over at forks)`,
      );
      return;
    }
    const frame = b.stack[b.stack.length - 1];
    if (!frame) {
      endOfStart(w, b);
      return;
    }
    const rule = frame.rules[frame.index];
    if (b.stack.length === 1) b.entry = frame.index;
    if (!rule) {
      leave(b, "end");
      continue;
    }
    if (rule.unreadable !== undefined) {
      unreadableRule(w, b, rule, frame.index);
      return;
    }
    const m = match(w, b, frame.compiled[frame.index]!);
    if (m.kind === "no") {
      frame.index++;
      continue;
    }
    b.facts = m.facts;
    const act = targetAction(rule, w.input.chains, w.input.unread);
    if (!apply(w, b, rule, frame.index, act)) return;
  }
}

/** Every way the packet can go through the nat table, each with its conditions. */
export function walkPath(input: WalkInput): WalkResult {
  const w: Walk = {
    input,
    limits: { ...PATH_LIMITS, ...input.limits },
    steps: 0,
    branches: 1,
    outcomes: [],
    reached: new Set(),
    unknowns: new Map(),
    work: [],
    refs: new Map(),
  };
  const first: Branch = {
    facts: initialFacts(input.packet),
    stack: [],
    assumed: { source: false, destination: false },
    via: [],
    agent: "before",
    agentDepth: 0,
  };
  enter(w, first, input.start);
  w.work.push(first);
  for (let b = w.work.pop(); b; b = w.work.pop()) run(w, b);
  return { outcomes: w.outcomes, reached: [...w.reached], unknowns: [...w.unknowns.values()] };
}
