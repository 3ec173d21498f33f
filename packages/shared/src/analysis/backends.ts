// One answer for a node whose nat rules live in both iptables backends. Both legacy
// (iptable_nat) and nf_tables register nat POSTROUTING hooks; the kernel's nf_nat_inet_fn runs
// them in priority order and stops at the first one that sets up a NAT binding, while one that
// accepts without NAT passes the packet on to the next (net/netfilter/nf_nat_core.c). So a
// packet is masqueraded when any backend masquerades it, and when several would, the order of
// the hooks (not visible in the rules) decides which translation is used.
import { type ParsedRule, targetArg } from "../parser.js";
import { describeRef } from "../path/describe.js";
import type { Condition, RuleRef, Unknown } from "../path/types.js";
import {
  evaluate,
  outcomeSummary,
  type PacketFields,
  type Verdict,
  type VerdictOutcome,
} from "./evaluate.js";
import type { FamilyAnalysis } from "./types.js";

export interface CombinedVerdict extends Verdict {
  /** Each backend's own verdict. */
  backends: Verdict[];
  /** Several backends NAT some packet differently: the order of their hooks decides. */
  orderMatters: boolean;
}

/** Most combined branches followed; past it the rest is one unknown branch that says so. */
export const MAX_COMBINED_OUTCOMES = 256;

/** Both branches' conditions, or null when the two branches cannot meet. */
export function mergeConditions(
  a: readonly Condition[],
  b: readonly Condition[],
): Condition[] | null {
  const out = [...a];
  for (const c of b) {
    const same = out.find((x) => x.key === c.key);
    if (same && same.holds !== c.holds) return null; // the two branches cannot meet
    if (!same) out.push(c);
  }
  return out;
}

const isNat = (o: VerdictOutcome) => o.result === "masquerade" || o.result === "snat";

function translation(o: VerdictOutcome): string {
  return o.result === "snat" ? `SNAT to ${o.toSource ?? "?"}` : "MASQUERADE";
}

/** What a paired branch takes from both: its conditions, path and reasons. */
type PairBase = Pick<VerdictOutcome, "when" | "conditions" | "via" | "because">;

/** Both backends NAT the packet: the first nat hook to run wins. */
function bothNat(
  x: VerdictOutcome,
  y: VerdictOutcome,
  base: PairBase,
): VerdictOutcome & { differs: boolean } {
  const differs = translation(x) !== translation(y);
  const reason = `both backends NAT it: ${x.backend} ${describeRef(x.decidedBy!)} (${translation(x)}) and ${y.backend} ${describeRef(y.decidedBy!)} (${translation(y)}); the first nat hook to run wins${differs ? ", and they translate differently" : ""}`;
  // The same translation either way: known, but not which rule (or backend) makes it.
  if (!differs) {
    const natBy = [
      { ...x.decidedBy!, backend: x.backend },
      { ...y.decidedBy!, backend: y.backend },
    ];
    const entry = x.entry ?? y.entry;
    return {
      ...x,
      ...base,
      decidedBy: undefined,
      backend: undefined,
      natBy,
      ...(entry ? { entry } : {}),
      reason,
      differs,
    };
  }
  // Which hook runs first is not in the rules (on a real node the table loaded last ran first,
  // either way round): neither rule is named as the one that decides, nor its backend or
  // address; the source is translated, to an address the order decides.
  return { ...base, result: "snat", masqueraded: true, reason, differs };
}

/** One backend NATs the packet, the other does not (or its answer is unknown). */
function oneNat(
  nat: VerdictOutcome,
  other: VerdictOutcome,
  base: PairBase,
): VerdictOutcome & { differs: boolean } {
  const reason = `${nat.backend}: ${nat.reason} (${other.backend}: ${other.result === "unknown" ? other.reason : "no NAT"})`;
  return { ...nat, ...base, reason, differs: false };
}

/**
 * One backend NATs the packet, what the other does is not known (a chain not in the input):
 * that one may NAT it otherwise, and its hook may run first, so neither rule nor address is
 * named as the one that applies; the source is translated either way.
 */
function natOrUnknown(
  nat: VerdictOutcome,
  other: VerdictOutcome,
  base: PairBase,
): VerdictOutcome & { differs: boolean } {
  const reason = `${nat.backend}: ${nat.reason}, or what ${other.backend} does, which is not known (${other.reason}), if its nat hook runs first`;
  return { ...base, result: "snat", masqueraded: true, reason, differs: false };
}

/** The branch where backend `a` does `x` and backend `b` does `y` to the same packet. */
function pair(
  x: VerdictOutcome,
  y: VerdictOutcome,
  conditions: Condition[],
): VerdictOutcome & { differs: boolean } {
  const when = [...new Set([...x.when, ...y.when])];
  const base = {
    when,
    conditions,
    via: [...x.via, ...y.via],
    because: [...x.because, ...y.because],
  };
  if (isNat(x) && isNat(y)) return bothNat(x, y, base);
  if (isNat(x) && y.result === "unknown") return natOrUnknown(x, y, base);
  if (isNat(y) && x.result === "unknown") return natOrUnknown(y, x, base);
  if (isNat(x)) return oneNat(x, y, base);
  if (isNat(y)) return oneNat(y, x, base);
  if (x.result === "unknown" || y.result === "unknown") {
    const u = x.result === "unknown" ? x : y;
    return { ...u, ...base, reason: `${u.backend}: ${u.reason}`, differs: false };
  }
  return {
    ...y,
    ...base,
    ...keptBy(x, y),
    reason: `neither backend NATs it (${x.backend}: ${outcomeSummary(x)}; ${y.backend}: ${outcomeSummary(y)})`,
    differs: false,
  };
}

/**
 * Neither backend NATs it. Each let it pass by a rule: which hook runs last is not in the
 * rules, and each rule is needed, so both are named (passedBy), neither as deciding. One did
 * (the agent's RETURN) and the other has no rule for it: that rule, its backend and its config
 * entry (the other's outcome alone left out the rule that keeps it, 'because' the agent's entry).
 */
function keptBy(
  x: VerdictOutcome,
  y: VerdictOutcome,
): Pick<VerdictOutcome, "decidedBy" | "passedBy" | "backend" | "entry"> {
  const entry = x.entry ?? y.entry;
  if (x.decidedBy && y.decidedBy) {
    const passedBy = [
      { ...x.decidedBy, backend: x.backend },
      { ...y.decidedBy, backend: y.backend },
    ];
    return { decidedBy: undefined, passedBy, backend: undefined, entry };
  }
  const only = x.decidedBy ? x : y.decidedBy ? y : undefined;
  return { decidedBy: only?.decidedBy, backend: only?.backend, entry: only?.entry };
}

interface Combined {
  outcomes: VerdictOutcome[];
  orderMatters: boolean;
  /** Branch pairs past MAX_COMBINED_OUTCOMES were not followed. */
  cut: boolean;
}

function combineTwo(xs: readonly VerdictOutcome[], ys: readonly VerdictOutcome[]): Combined {
  const outcomes: VerdictOutcome[] = [];
  let orderMatters = false;
  for (const x of xs)
    for (const y of ys) {
      const conditions = mergeConditions(x.conditions, y.conditions);
      if (!conditions) continue;
      if (outcomes.length >= MAX_COMBINED_OUTCOMES) return { outcomes, orderMatters, cut: true };
      const { differs, ...o } = pair(x, y, conditions);
      orderMatters ||= differs;
      outcomes.push(o);
    }
  return { outcomes, orderMatters, cut: false };
}

const CUT_MESSAGE = `more than ${MAX_COMBINED_OUTCOMES} combined branches of the two backends: the rest were not followed`;

/** The branch that stands for the pairs not followed: unknown, and saying why. */
const cutOutcome: VerdictOutcome = {
  when: ["the branches not followed"],
  conditions: [],
  result: "unknown",
  masqueraded: null,
  reason: CUT_MESSAGE,
  because: [],
  via: [],
};

const setsMark = (r: ParsedRule) =>
  r.target === "MARK" || (r.target === "CONNMARK" && targetArg(r, "--restore-mark") !== undefined);
const testsMark = (r: ParsedRule) => r.matches.some((m) => m.module === "mark");

function firstRule(a: FamilyAnalysis, pred: (r: ParsedRule) => boolean): string | undefined {
  for (const c of a.path) {
    const rules = c.read ? (a.chains.get(c.name)?.rules ?? []) : [];
    const i = rules.findIndex(pred);
    if (i >= 0) return `${c.name} rule ${i + 1}`;
  }
  return undefined;
}

/**
 * A mark one backend's nat path sets can reach the other backend's mark tests when its hook
 * runs first: which runs first is not in the rules, so the answer depends on it.
 */
export function markInterplay(analyses: readonly FamilyAnalysis[]): Unknown | undefined {
  for (const a of analyses)
    for (const b of analyses) {
      if (a === b) continue;
      const set = firstRule(a, setsMark);
      const test = set && firstRule(b, testsMark);
      if (set && test)
        return {
          kind: "hook-order",
          message: `${a.backend ?? "one backend"} sets marks on the path (${set}) that ${b.backend ?? "the other"} tests (${test}): the answer depends on which nat hook runs first, which the rules do not show`,
        };
    }
  return undefined;
}

/** Every backend's branches paired up, in turn; `own`: what makes the result uncertain. */
function combineAll(verdicts: readonly Verdict[], extra: readonly Unknown[]) {
  let outcomes = verdicts[0]!.outcomes;
  let orderMatters = extra.some((u) => u.kind === "hook-order");
  const own: Unknown[] = [...extra];
  for (const v of verdicts.slice(1)) {
    const c = combineTwo(outcomes, v.outcomes);
    outcomes = c.outcomes;
    orderMatters ||= c.orderMatters;
    if (!c.cut) continue;
    outcomes.push(cutOutcome);
    if (own.every((u) => u.message !== CUT_MESSAGE))
      own.push({ kind: "bound", message: CUT_MESSAGE });
  }
  return { outcomes, orderMatters, own };
}

/** The rule that decides every branch, when one rule of one backend does. */
function commonDecider(outcomes: readonly VerdictOutcome[]): RuleRef | undefined {
  const first = outcomes[0];
  const decider = first?.decidedBy;
  if (!decider) return undefined;
  const same = (o: VerdictOutcome) =>
    o.decidedBy?.chain === decider.chain &&
    o.decidedBy.index === decider.index &&
    o.backend === first.backend;
  return outcomes.every(same) ? decider : undefined;
}

/**
 * One branch of a combined verdict's reason (the iptables backends', nftables' hooks'): "for
 * every packet: …", "when source in 10.0.0.0/8: …". The reason explains the answer, it never
 * states it again (the answer is `masqueraded`; `ipmasq why` prints the reason after "because").
 */
export function branchReason(when: readonly string[], text: string): string {
  return `${when.length > 0 ? `when ${when.join(" and ")}` : "for every packet"}: ${text}`;
}

/** What the reason adds: the hook order when it decides, and each uncertainty. */
function reasonTail(orderMatters: boolean, own: readonly Unknown[]): string {
  const order =
    orderMatters && own.every((u) => u.kind !== "hook-order")
      ? " Which translation applies depends on the order of the two backends' nat hooks, which the rules do not show."
      : "";
  return order + own.map((u) => ` But ${u.message}.`).join("");
}

/**
 * One verdict from the verdicts of the same packet in each backend (in any order). `extra`:
 * what makes the combination uncertain besides the branches (e.g. markInterplay's finding).
 */
export function combineBackendVerdicts(
  verdicts: readonly Verdict[],
  extra: readonly Unknown[] = [],
): CombinedVerdict {
  const [first] = verdicts;
  if (!first) throw new Error("combineBackendVerdicts needs at least one verdict");
  const { outcomes, orderMatters, own } = combineAll(verdicts, extra);
  const values = new Set(outcomes.map((o) => o.masqueraded));
  const masqueraded = own.length > 0 || values.size !== 1 ? null : [...values][0]!;
  const decidedBy = commonDecider(outcomes);
  const unknowns = [
    ...verdicts.flatMap((v) =>
      v.unknowns.map((u) => ({ ...u, message: `${v.backend ?? "?"}: ${u.message}` })),
    ),
    ...own,
  ];
  const parts = outcomes.map((o) => branchReason(o.when, o.reason));
  return {
    ip: first.ip,
    packet: first.packet,
    masqueraded,
    certain:
      masqueraded !== null &&
      verdicts.every((v) => v.unknowns.every((u) => u.kind !== "postrouting-missing")),
    decidedBy,
    backend: decidedBy ? outcomes[0]?.backend : undefined,
    reason: `with the rules of ${verdicts.map((v) => v.backend ?? "?").join(" and ")}, ${parts.join("; ")}.${reasonTail(orderMatters, own)}`,
    outcomes,
    unknowns,
    caveats: unknowns.map((u) => u.message),
    backends: [...verdicts],
    orderMatters,
  };
}

/** Evaluates the packet in every backend's analysis of its family and combines the answers. */
export function evaluateAcrossBackends(
  analyses: readonly FamilyAnalysis[],
  ipText: string,
  fields: PacketFields = {},
): CombinedVerdict | { error: string } {
  const verdicts: Verdict[] = [];
  for (const a of analyses) {
    const v = evaluate(a, ipText, fields);
    if ("error" in v) return v;
    verdicts.push(v);
  }
  if (verdicts.length === 0) return { error: "no rules to evaluate" };
  const interplay = markInterplay(analyses);
  return combineBackendVerdicts(verdicts, interplay ? [interplay] : []);
}
