// "Would a pod's new connection to this destination leave masqueraded?", answered from the
// whole nat path: one answer when every branch agrees, otherwise each branch with the
// conditions it needs, and what could not be seen.
import { type Family, iptablesAddress, type ParsedIp } from "../cidr.js";
import { clauseOf, type ParsedRule } from "../parser.js";
import { describeConditions, describeRef } from "../path/describe.js";
import { uncertainBy } from "../path/outside-netfilter.js";
import { type PacketQuery, parsePacket, protocolName } from "../path/packet.js";
import type { Condition, OutcomeResult, PathOutcome, RuleRef, Unknown } from "../path/types.js";
import type { IptablesBackend } from "../protocol.js";
import { BACKEND_LABELS } from "./backend-labels.js";
import { type AgentEntry, agentEntryOf } from "./entry.js";
import { runPath } from "./path.js";
import type { FamilyAnalysis } from "./types.js";

/** One branch of the answer, for people and JSON (no bigints). */
export interface VerdictOutcome {
  /** The conditions in words, e.g. ["source in 10.100.64.64/26", "! -p tcp"]; [] for every packet. */
  when: string[];
  conditions: Condition[];
  result: OutcomeResult;
  masqueraded: boolean | null;
  decidedBy?: RuleRef;
  /**
   * No single deciding rule: these rules, each in a chain of one priority (nftables base chains
   * run in an order not in the rules), let it pass together; each is needed (nft/evaluate.ts).
   */
  passedBy?: (RuleRef & { backend?: IptablesBackend })[];
  /**
   * No single deciding rule: each of these rules NATs it the same way, in hooks or chains that
   * run in an order not in the rules (nftables base chains of one priority, two iptables
   * backends); whichever runs first does (nft/evaluate.ts, analysis/backends.ts).
   */
  natBy?: (RuleRef & { backend?: IptablesBackend })[];
  /** The config entry the deciding rule of the agent's chain stands for. */
  entry?: AgentEntry;
  toSource?: string;
  reason: string;
  because: string[];
  /** Chains entered, in order. */
  via: string[];
  backend?: IptablesBackend;
}

export interface Verdict {
  /** The destination asked about. */
  ip: string;
  /** Everything that was known about the packet. */
  packet: {
    destination: string;
    source?: string;
    protocol?: string;
    dport?: number;
    mark?: number;
  };
  /** true/false when every branch agrees; null when it depends on the packet or is unknown. */
  masqueraded: boolean | null;
  /** masqueraded is known for the node: not null, and POSTROUTING was read. */
  certain: boolean;
  /** The rule that decides, when it is the same rule on every branch. */
  decidedBy?: RuleRef;
  /** decidedBy's config entry, when it is a rule of the agent's chain (analysis/entry.ts). */
  entry?: AgentEntry;
  backend?: IptablesBackend;
  /** One paragraph for people. */
  reason: string;
  outcomes: VerdictOutcome[];
  /** What could not be seen (unread chains, POSTROUTING not in the input, bounds). */
  unknowns: Unknown[];
  /** Short notes for people (the unknowns in words, assumptions). */
  caveats: string[];
}

export type PacketFields = Omit<PacketQuery, "destination">;

function toVerdictOutcome(o: PathOutcome, backend?: IptablesBackend): VerdictOutcome {
  return {
    when: describeConditions(o.conditions),
    conditions: o.conditions,
    result: o.result,
    masqueraded: o.masqueraded,
    decidedBy: o.decidedBy,
    toSource: o.toSource,
    reason: o.reason,
    because: o.because,
    via: o.via,
    ...(backend ? { backend } : {}),
  };
}

function sameRule(a?: RuleRef, b?: RuleRef): boolean {
  return a !== undefined && b !== undefined && a.chain === b.chain && a.index === b.index;
}

/** What a branch does, in a few words: "masqueraded by IP-MASQ-AGENT rule 3 (ip-masq-agent)". */
export function outcomeSummary(o: VerdictOutcome): string {
  const by = o.decidedBy ? describeRef(o.decidedBy) : undefined;
  // No deciding rule: several would NAT it and which one does is not in the rules.
  const byRule = by
    ? ` by ${by}`
    : o.natBy?.length
      ? ` by ${o.natBy.map(passedText).join(" or ")}, whichever runs first`
      : "";
  switch (o.result) {
    case "masquerade":
      return `masqueraded${byRule}`;
    case "snat":
      return `SNAT'd to ${o.toSource ?? "another address"}${byRule}`;
    case "accept":
    case "return":
      if (!by && o.passedBy?.length)
        return `keeps its address (${o.passedBy.map(passedText).join(" and ")} each let it pass)`;
      if (!by) return "keeps its address (no rule NATs it)";
      return `keeps its address (${by} ${/ -j ACCEPT( |$)/.test(o.decidedBy?.text ?? "") ? "accepts" : "returns"} it)`;
    case "unknown":
      return `unknown: ${o.reason}`;
  }
}

/** One of the rules that let a packet pass together, with its backend when there are two. */
function passedText(r: RuleRef & { backend?: IptablesBackend }): string {
  return `${describeRef(r)}${r.backend ? ` in ${BACKEND_LABELS[r.backend]}` : ""}`;
}

/** The paragraph of a verdict. */
function reasonOf(v: Omit<Verdict, "reason" | "caveats">): string {
  const [only] = v.outcomes;
  if (v.outcomes.length === 1 && only) {
    const why = only.because.length > 0 ? `${only.because.join(" and ")}: ` : "";
    const but =
      v.masqueraded !== only.masqueraded
        ? `; but ${v.unknowns.map((u) => u.message).join("; ")}`
        : "";
    return `${why}${only.reason}${but}`;
  }
  const head =
    v.masqueraded === null
      ? "it depends on the packet"
      : `${v.masqueraded ? "masqueraded" : "not masqueraded"} on every branch`;
  const parts = v.outcomes.map(
    (o) => `${o.when.join(" and ") || "otherwise"}: ${outcomeSummary(o)}`,
  );
  return `${head}: ${parts.join("; ")}`;
}

function packetText(p: import("../path/packet.js").Packet): Verdict["packet"] {
  return {
    destination: p.destination?.text ?? "",
    ...(p.source ? { source: p.source.text } : {}),
    ...(p.protocol !== undefined ? { protocol: protocolName(p.protocol) } : {}),
    ...(p.dport !== undefined ? { dport: p.dport } : {}),
    ...(p.mark !== undefined ? { mark: p.mark } : {}),
  };
}

/** Branches listed one by one in a verdict; the rest are folded, one line per result. */
export const MAX_LISTED_OUTCOMES = 64;

/** Past MAX_LISTED_OUTCOMES, the rest of the branches as one outcome per result, counted. */
function foldOutcomes(vo: VerdictOutcome[]): VerdictOutcome[] {
  if (vo.length <= MAX_LISTED_OUTCOMES) return vo;
  const kept = vo.slice(0, MAX_LISTED_OUTCOMES - 1);
  const rest = new Map<OutcomeResult, VerdictOutcome[]>();
  for (const o of vo.slice(MAX_LISTED_OUTCOMES - 1)) {
    const list = rest.get(o.result);
    if (list) list.push(o);
    else rest.set(o.result, [o]);
  }
  for (const [result, list] of rest) {
    const first = list[0]!;
    const when = `${list.length} more branches`;
    kept.push({
      ...first,
      when: [when],
      conditions: [{ text: when, key: when, holds: true, field: "other" }],
      decidedBy: list.every((o) => sameRule(o.decidedBy, first.decidedBy))
        ? first.decidedBy
        : undefined,
      reason: `${list.length} more branches end the same way (${result}), e.g. ${first.reason}`,
      because: [],
    });
  }
  return kept;
}

/** Folds branches into one verdict: agreed when all branches agree and none is unknown. */
export function verdictOf(
  packet: import("../path/packet.js").Packet,
  outcomes: readonly PathOutcome[],
  unknowns: readonly Unknown[],
  scope: { postroutingRead: boolean; backend?: IptablesBackend },
): Verdict {
  const all = outcomes.map((o) => toVerdictOutcome(o, scope.backend));
  const values = new Set(all.map((o) => o.masqueraded));
  const vo = foldOutcomes(all);
  let masqueraded = values.size === 1 ? [...values][0]! : null;
  // Rules in an unread backend may still masquerade what these rules leave alone.
  if (masqueraded === false && unknowns.some((u) => u.kind === "other-backend")) masqueraded = null;
  const first = vo[0]?.decidedBy;
  const decidedBy = all.every((o) => sameRule(o.decidedBy, first)) ? first : undefined;
  const base = {
    ip: packet.destination?.text ?? "",
    packet: packetText(packet),
    masqueraded,
    certain: masqueraded !== null && scope.postroutingRead,
    decidedBy,
    ...(scope.backend ? { backend: scope.backend } : {}),
    outcomes: vo,
    unknowns: [...unknowns],
  };
  return { ...base, reason: reasonOf(base), caveats: unknowns.map((u) => u.message) };
}

/** Names the config entry behind each deciding rule of the agent's chain. */
function withEntries(a: FamilyAnalysis, v: Verdict, destination?: ParsedIp): Verdict {
  const entry = agentEntryOf(a, v.decidedBy, destination);
  const outcomes = v.outcomes.map((o) => {
    const e = agentEntryOf(a, o.decidedBy, destination);
    return e ? { ...o, entry: e } : o;
  });
  return { ...v, ...(entry ? { entry } : {}), outcomes };
}

/** Input lines left out of every chain named in an answer; more are counted. */
const FEW_LOOSE_LINES = 8;

/** Which family a rule's `-s`/`-d` addresses are in: "own", "other", or undefined (none). */
function ruleAddressFamily(
  rule: ParsedRule,
  own: Family,
  other: Family,
): "own" | "other" | undefined {
  let seen: "other" | undefined;
  for (const flag of ["-s", "-d"]) {
    const text = clauseOf(rule, "", flag)?.args[0];
    if (text === undefined) continue;
    if (iptablesAddress(text, own)) return "own";
    if (iptablesAddress(text, other)) seen = "other";
  }
  return seen;
}

/**
 * The family the rules' addresses are in when it is not the analysis' (an ip6tables dump read
 * for an IPv4 question): every `-s`/`-d` on the path is of the other family.
 */
function otherFamily(a: FamilyAnalysis): Family | undefined {
  const other: Family = a.family === "ipv4" ? "ipv6" : "ipv4";
  let seenOther = false;
  for (const c of a.path)
    for (const rule of a.chains.get(c.name)?.rules ?? []) {
      const family = ruleAddressFamily(rule, a.family, other);
      if (family === "own") return undefined;
      seenOther ||= family === "other";
    }
  return seenOther ? other : undefined;
}

/**
 * Would a pod's new connection to `ipText` leave masqueraded? `fields` adds what is known of
 * the packet (source, protocol, destination port, mark); every other match is a condition.
 * Errors: `ipText` or a field is not valid, or the family is not the analysis'.
 */
export function evaluate(
  a: FamilyAnalysis,
  ipText: string,
  fields: PacketFields = {},
): Verdict | { error: string } {
  const p = parsePacket({ ...fields, destination: ipText });
  if (!p.ok)
    return {
      error: p.error.startsWith("destination ") ? `"${ipText}" is not an IP address` : p.error,
    };
  if (p.packet.family !== a.family)
    return { error: `${ipText} is ${p.packet.family}; these rules are ${a.family}` };
  const fatal = a.errors.find((e) => e.fatal);
  if (fatal) return { error: `line ${fatal.line}: ${fatal.reason}` };
  const other = otherFamily(a);
  if (other)
    return {
      error: `${ipText} is ${a.family}, but these rules' addresses are ${other} (${other === "ipv6" ? "ip6tables" : "iptables"} output): ask about an ${other} address, or read the ${a.family} rules`,
    };
  const r = runPath(a, p.packet);
  // Lines kept in no chain (commands such as -I, bad declarations): the answer left them out.
  const left = a.errors.filter((e) => e.inChain === undefined);
  const loose: Unknown[] = left.slice(0, FEW_LOOSE_LINES).map((e) => ({
    kind: "unreadable-rule",
    message: `input line ${e.line} was left out (${e.reason}): ${e.text.slice(0, 120)}`,
  }));
  if (left.length > FEW_LOOSE_LINES)
    loose.push({
      kind: "unreadable-rule",
      message: `and ${left.length - FEW_LOOSE_LINES} more input lines were left out`,
    });
  const unknowns = [
    ...r.unknowns,
    ...a.unknowns.filter((u) => u.kind === "other-backend"),
    ...loose,
  ];
  const v = withEntries(
    a,
    verdictOf(p.packet, r.outcomes, unknowns, {
      postroutingRead: a.postroutingRead,
      backend: a.backend,
    }),
    p.packet.destination,
  );
  const sure = loose.length > 0 ? { ...v, certain: false } : v;
  return uncertainBy(
    sure,
    a.unknowns.find((u) => u.kind === "outside-netfilter"),
  );
}
