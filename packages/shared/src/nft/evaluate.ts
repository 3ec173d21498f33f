// "Would a pod's new connection leave masqueraded?" on an nftables node: each nat postrouting
// base chain's verdict (evaluate), folded in priority order as the kernel runs them
// (nf_nat_inet_fn): the first chain that NATs decides; one that accepts, returns or ends
// passes the packet on; an unknown branch stays unknown. When two chains of the same priority
// would translate a packet differently, which wins is not in the rules (orderMatters).
import { branchReason, mergeConditions } from "../analysis/backends.js";
import {
  evaluate,
  outcomeSummary,
  type PacketFields,
  type Verdict,
  type VerdictOutcome,
} from "../analysis/evaluate.js";
import { describeConditions, describeRef } from "../path/describe.js";
import { uncertainBy } from "../path/outside-netfilter.js";
import { parsePacket } from "../path/packet.js";
import type { Condition } from "../path/types.js";
import { markHandOver, type NftFamilyAnalysis } from "./analysis.js";

/** Most combined branches followed (as across iptables backends). */
export const MAX_NFT_COMBINED_OUTCOMES = 256;

export interface NftHookVerdict {
  ref: string;
  priority: number;
  verdict: Verdict;
}

export interface NftVerdict extends Verdict {
  /** Each nat postrouting base chain's own verdict, in priority order. */
  hooks: NftHookVerdict[];
  /** Chains of equal priority translate some packet differently: their order decides. */
  orderMatters: boolean;
}

interface Branch {
  conditions: Condition[];
  /** The deciding outcome (NAT or unknown), or the last no-NAT outcome while open. */
  outcome?: VerdictOutcome;
  /** Priority of the chain that NATed, once one did. */
  natAt?: number;
  open: boolean;
  via: string[];
  /** Same-priority chains that would translate it otherwise if they ran first. */
  rivals?: string[];
  /** Same-priority chains' outcomes that would translate it the same way if they ran first. */
  peers?: VerdictOutcome[];
  /** While open: each chain's outcome that passed it on, with the chain's priority. */
  passes?: { priority: number; outcome: VerdictOutcome }[];
}

const isNat = (o: VerdictOutcome) => o.result === "masquerade" || o.result === "snat";
const translation = (o: VerdictOutcome) =>
  o.result === "snat" ? `SNAT to ${o.toSource ?? "?"}` : "MASQUERADE";

/**
 * A branch another chain decided, met by chain `h`'s outcome `y`: a chain of the same priority
 * may have run first: one translating it otherwise is a rival, the same way a peer.
 */
function decided(b: Branch, h: NftHookVerdict, y: VerdictOutcome, conditions: Condition[]): Branch {
  if (b.natAt !== h.priority) return { ...b, conditions };
  // What the chain does is not known (a rule not modelled, a chain not read): it may NAT it
  // otherwise, and run first.
  if (y.result === "unknown") {
    const rival = `what ${h.ref} does, which is not known (${y.reason}), if it runs first`;
    return { ...b, conditions, rivals: [...(b.rivals ?? []), rival] };
  }
  if (!isNat(y)) return { ...b, conditions };
  if (translation(y) !== translation(b.outcome!)) {
    const rival = `${outcomeSummary(y)} if ${h.ref} runs first`;
    return { ...b, conditions, rivals: [...(b.rivals ?? []), rival] };
  }
  return y.decidedBy ? { ...b, conditions, peers: [...(b.peers ?? []), y] } : { ...b, conditions };
}

function step(b: Branch, h: NftHookVerdict, out: Branch[]): boolean {
  let orderMatters = false;
  for (const y of h.verdict.outcomes) {
    const conditions = mergeConditions(b.conditions, y.conditions);
    if (!conditions) continue;
    if (!b.open) {
      const next = decided(b, h, y, conditions);
      // A chain whose answer is not known says so in its own unknowns.
      orderMatters ||= isNat(y) && (next.rivals?.length ?? 0) > (b.rivals?.length ?? 0);
      out.push(next);
      continue;
    }
    const via = [...b.via, ...y.via];
    if (isNat(y)) out.push({ conditions, outcome: y, natAt: h.priority, open: false, via });
    else if (y.result === "unknown") out.push({ conditions, outcome: y, open: false, via });
    else {
      const passes = [...(b.passes ?? []), { priority: h.priority, outcome: y }];
      out.push({ conditions, outcome: y, open: true, via, passes });
    }
  }
  return orderMatters;
}

/** A decided branch's NAT as the chains of its priority that translate it alike make it. */
function firstNat(
  o: VerdictOutcome,
  b: Branch,
  base: Pick<VerdictOutcome, "when" | "conditions" | "via">,
) {
  return b.peers?.length ? sameNat(o, b.peers, base) : { ...o, ...base };
}

function finalOutcome(b: Branch): VerdictOutcome {
  const o = b.outcome;
  const base = { when: describeConditions(b.conditions), conditions: b.conditions, via: b.via };
  if (o && !b.open) {
    const first = firstNat(o, b, base);
    if (!b.rivals?.length) return first;
    // A chain of the same priority would translate it otherwise, and which runs first is not
    // in the rules: no rule or address is named as the one that applies; each chain that
    // would translate it as the first did is named beside it (a third chain of the priority).
    const reason = `${first.reason}; or ${b.rivals.join("; or ")}`;
    return { ...base, result: "snat", masqueraded: true, reason, because: [] };
  }
  const together = lastUnordered(b.passes ?? []);
  if (together) return { ...base, ...together };
  const last = o?.decidedBy ? ` (last: ${describeRef(o.decidedBy)})` : "";
  return {
    ...base,
    result: "accept",
    masqueraded: false,
    reason: `no nat postrouting chain NATs it${last}, so it keeps its source address`,
    because: o?.because ?? [],
    ...(o?.decidedBy ? { decidedBy: o.decidedBy } : {}),
    ...(o?.entry ? { entry: o.entry } : {}),
  };
}

/**
 * Chains of one priority would each NAT it the same way, and which runs first is not in the
 * rules: the translation is known, the rule that makes it is not, so none is named as deciding
 * (`natBy` names them all). Naming the first listed (kube-proxy's masquerade of marked packets)
 * credited it where the kernel may run the agent's chain first.
 */
function sameNat(
  o: VerdictOutcome,
  peers: readonly VerdictOutcome[],
  base: Pick<VerdictOutcome, "when" | "conditions" | "via">,
): VerdictOutcome {
  const all = [o, ...peers];
  const entry = all.find((x) => x.entry)?.entry;
  return {
    ...o,
    ...base,
    via: [...new Set([...base.via, ...peers.flatMap((x) => x.via)])],
    decidedBy: undefined,
    natBy: all.flatMap((x) => (x.decidedBy ? [x.decidedBy] : [])),
    ...(entry ? { entry } : {}),
    reason: `${all.map((x) => x.reason).join("; or ")}: chains of one priority, in an order not in the rules, translating it the same way`,
  };
}

/**
 * No chain NATed it, and the last to run is not known: chains of the highest priority that ran
 * each let it pass by a rule of their own, in an order not in the rules. The answer is theirs
 * together: naming one of them (kube-proxy's `mark & 0x4000 == 0 return`) as the rule it keeps
 * its address by left out the agent's set return, without which the agent masquerades it.
 */
function lastUnordered(
  passes: readonly { priority: number; outcome: VerdictOutcome }[],
): Omit<VerdictOutcome, "when" | "conditions" | "via"> | undefined {
  const top = Math.max(...passes.map((p) => p.priority));
  const ruled = passes.filter((p) => p.priority === top && p.outcome.decidedBy);
  if (ruled.length < 2) return undefined;
  const each = ruled.map((p) => `${describeRef(p.outcome.decidedBy!)} lets it pass`).join("; ");
  // The agent's return among them names its config entry.
  const entry = ruled.find((p) => p.outcome.entry)?.outcome.entry;
  return {
    ...(entry ? { entry } : {}),
    result: "accept",
    masqueraded: false,
    reason: `no nat postrouting chain NATs it (${each}: chains of one priority, in an order not in the rules), so it keeps its source address`,
    because: ruled.flatMap((p) => p.outcome.because ?? []),
    passedBy: ruled.map((p) => p.outcome.decidedBy!),
  };
}

/** Folds the hooks' verdicts (priority order) into one answer. */
export function combineNftHooks(base: Verdict, hooks: readonly NftHookVerdict[]): NftVerdict {
  let branches: Branch[] = [{ conditions: [], open: true, via: [] }];
  let orderMatters = false;
  let cut = false;
  for (const h of hooks) {
    const next: Branch[] = [];
    for (const b of branches) orderMatters = step(b, h, next) || orderMatters;
    cut ||= next.length > MAX_NFT_COMBINED_OUTCOMES;
    branches = next.slice(0, MAX_NFT_COMBINED_OUTCOMES);
  }
  const outcomes = branches.map(finalOutcome);
  const unknowns = hooks.flatMap((h) =>
    h.verdict.unknowns.map((u) => ({ ...u, message: `${h.ref}: ${u.message}` })),
  );
  if (cut)
    unknowns.push({
      kind: "bound",
      message: `more than ${MAX_NFT_COMBINED_OUTCOMES} combined branches of the nat chains: the rest were not followed`,
    });
  if (orderMatters)
    unknowns.push({
      kind: "hook-order",
      message:
        "nat chains of equal priority translate it differently: which runs first (registration order) is not in the rules",
    });
  const values = new Set(outcomes.map((o) => o.masqueraded));
  const masqueraded = values.size === 1 && !cut ? [...values][0]! : null;
  const first = outcomes[0]?.decidedBy;
  const decidedBy = outcomes.every(
    (o) => o.decidedBy?.chain === first?.chain && o.decidedBy?.index === first?.index,
  )
    ? first
    : undefined;
  const parts = branches.map((b, i) => {
    const o = outcomes[i]!;
    // With rivals, what the first chain does (its rule, or its peers' too), beside what each
    // rival would do.
    const first =
      b.rivals?.length && b.outcome
        ? firstNat(b.outcome, b, { when: o.when, conditions: o.conditions, via: o.via })
        : o;
    const rivals = b.rivals?.length ? `, or ${b.rivals.join(", or ")}` : "";
    return branchReason(o.when, `${outcomeSummary(first)}${rivals}`);
  });
  return {
    ...base,
    masqueraded,
    certain: masqueraded !== null,
    ...(decidedBy ? { decidedBy } : { decidedBy: undefined }),
    reason: `${hooks.length > 0 ? `with the nat postrouting chains ${hooks.map((h) => `${h.ref} (priority ${h.priority})`).join(", ")}` : "with no nat postrouting chain"}, ${parts.join("; ")}.${unknowns.map((u) => ` But ${u.message}.`).join("")}`,
    outcomes,
    unknowns,
    caveats: unknowns.map((u) => u.message),
    hooks: [...hooks],
    orderMatters,
  };
}

/**
 * Evaluates the packet in every nat postrouting base chain of the family and combines the
 * answers. Errors: the address or a field is not valid, or is of the other family.
 */
export function evaluateNft(
  fa: NftFamilyAnalysis,
  ipText: string,
  fields: PacketFields = {},
): NftVerdict | { error: string } {
  const p = parsePacket({ ...fields, destination: ipText });
  if (!p.ok) return { error: p.error };
  if (p.packet.family !== fa.family)
    return { error: `${ipText} is ${p.packet.family}; these rules are ${fa.family}` };
  const hooks: NftHookVerdict[] = [];
  for (const h of fa.hooks) {
    const v = evaluate(h.analysis, ipText, fields);
    if ("error" in v) return v;
    hooks.push({ ref: h.ref, priority: h.priority, verdict: v });
  }
  const base: Verdict = {
    ip: ipText,
    packet: { destination: ipText },
    masqueraded: false,
    certain: true,
    reason: "",
    outcomes: [],
    unknowns: [],
    caveats: [],
  };
  const v = combineNftHooks(hooks[0]?.verdict ?? base, hooks);
  const mark = markHandOver(fa.hooks);
  // Objects that were not read (parse errors), or a mark handed between chains: unknown.
  // Translation outside netfilter leaves the rules' answer standing, not certain.
  const outside = fa.unknowns.find((u) => u.kind === "outside-netfilter");
  const unread = fa.unknowns.filter((u) => u !== outside);
  const extra = [...unread, ...(mark ? [mark] : [])];
  if (extra.length === 0) return uncertainBy(v, outside);
  return uncertainBy(
    {
      ...v,
      masqueraded: null,
      certain: false,
      reason: `${v.reason}${extra.map((u) => ` But ${u.message}.`).join("")}`,
      unknowns: [...extra, ...v.unknowns],
      caveats: [...extra.map((u) => u.message), ...v.caveats],
    },
    outside,
  );
}
