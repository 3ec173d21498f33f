// The agent's nftables table, desired from config + agent flags, and the `nft -f` scripts that
// apply it (one atomic transaction) and remove it. Pure: the reporter runs the text.
//
// Non-masquerade destinations are interval sets. The kernel's interval sets refuse overlapping
// elements (EEXIST without auto-merge), so elements are rendered canonical: the config's CIDRs of
// one family merged into disjoint, non-adjacent ranges in address order (toRanges), each as
// nft writes it (`a`, `a/len`, `a-b`). Same behaviour, and `nft -j` reads it back alike.
//
// masqueradeCIDRs: a set of intervals can hold exactly the ranges longest-prefix leaves
// unmasqueraded (each exception cut out of the ranges around it), so one set lookup still
// decides every destination and the cost per packet does not grow: `familyIntervals` computes
// them from the shared decision (masquerade-decision.ts), which drift and `why` share.
import { type Family, formatIp, mustParseCidr, type Range, toRanges } from "../cidr.js";
import type { AgentFlags, MasqConfig } from "../config.js";
import { keptRanges, usesExceptions } from "../masquerade-decision.js";
import { formatInterval, intervalSize, parseToPorts } from "../ports.js";
import { nonMasqCidrs } from "../rules.js";
import {
  NFT_CHAIN,
  NFT_CHAIN_PRIORITY_NAME,
  NFT_IPV6_OFF_COMMENT,
  NFT_LOCAL_COMMENT,
  NFT_MASQ_COMMENT,
  NFT_NON_MASQ_COMMENT,
  NFT_SET_V4,
  NFT_SET_V6,
  NFT_TABLE_REF,
} from "./names.js";

/** Protocols that get port-range rules with `--to-ports` (upstream's toPortsProtocols). */
const TO_PORTS_L4 = "meta l4proto { tcp, udp, sctp }";

/** Every statement buildDesired writes, under any config and flags (as `nft list` prints it). */
const AGENT_STATEMENTS = [
  /^fib daddr type local return$/,
  /^meta nfproto ipv6 return$/,
  /^ip6? daddr @\w+ return$/,
  /^(meta l4proto \{ tcp, udp, sctp \}( numgen random mod \d+ < \d+)? )?masquerade( to :\d+(-\d+)?)?( fully-random)?$/,
];

/** Is this a statement the agent writes under some config and flags (not necessarily these)? */
export function isAgentStatement(statement: string): boolean {
  return AGENT_STATEMENTS.some((re) => re.test(statement));
}

export interface DesiredNftSet {
  name: string;
  family: Family;
  /** nft's set type for the family. */
  type: "ipv4_addr" | "ipv6_addr";
  /** Disjoint, non-adjacent, ascending. */
  ranges: Range[];
}

export type DesiredNftRuleKind = "local-return" | "ipv6-off" | "set-return" | "masquerade";

export interface DesiredNftRule {
  kind: DesiredNftRuleKind;
  /** The rule as `nft list` prints it, without the comment. */
  statement: string;
  comment: string;
  /** set-return: the set it looks up. */
  set?: string;
  /** masquerade: upstream's flags as nft writes them. */
  fullyRandom?: boolean;
  /** masquerade: `a-b` port range (`--to-ports` interval), when one. */
  ports?: string;
  /** masquerade with a port range: the share of the remaining ports, as `numgen random mod N < K`. */
  numgen?: { mod: number; below: number };
}

export interface DesiredNftTable {
  sets: DesiredNftSet[];
  /** The base chain's rules, in order. */
  rules: DesiredNftRule[];
}

/** An element as nft writes it: one address, a prefix, or a range. */
export function nftElementText(family: Family, r: Range): string {
  const first = formatIp(family, r.first);
  if (r.first === r.last) return first;
  const size = r.last - r.first + 1n;
  const aligned = (size & (size - 1n)) === 0n && r.first % size === 0n;
  if (!aligned) return `${first}-${formatIp(family, r.last)}`;
  const bits = family === "ipv4" ? 32 : 128;
  return `${first}/${bits - (size.toString(2).length - 1)}`;
}

/**
 * Non-masquerade destinations of one family as disjoint ranges (link-local per config); with
 * masqueradeCIDRs, the ranges whose most specific entry is a non-masquerade one.
 */
export function familyIntervals(config: MasqConfig, family: Family): Range[] {
  if (!usesExceptions(config)) return toRanges(nonMasqCidrs(config, family).map(mustParseCidr));
  return keptRanges(config, family);
}

function setOf(config: MasqConfig, family: Family): DesiredNftSet {
  return {
    name: family === "ipv4" ? NFT_SET_V4 : NFT_SET_V6,
    family,
    type: family === "ipv4" ? "ipv4_addr" : "ipv6_addr",
    ranges: familyIntervals(config, family),
  };
}

function masqueradeRules(flags: AgentFlags): DesiredNftRule[] {
  const ports = parseToPorts(flags.toPorts);
  if (!ports.ok) throw new Error(ports.message);
  const fully = flags.randomFully ? " fully-random" : "";
  const rules: DesiredNftRule[] = [];
  let remaining = ports.intervals.reduce((n, i) => n + intervalSize(i), 0);
  for (const interval of ports.intervals) {
    const size = intervalSize(interval);
    const range = formatInterval(interval);
    // As upstream's statistic match: this interval's share of the ports not yet offered.
    const numgen = size === remaining ? undefined : { mod: remaining, below: size };
    const draw = numgen ? ` numgen random mod ${numgen.mod} < ${numgen.below}` : "";
    rules.push({
      kind: "masquerade",
      statement: `${TO_PORTS_L4}${draw} masquerade to :${range}${fully}`,
      comment: NFT_MASQ_COMMENT,
      fullyRandom: flags.randomFully,
      ports: range,
      ...(numgen ? { numgen } : {}),
    });
    remaining -= size;
  }
  // The catch-all keeps every other protocol (ICMP…) masqueraded and stays last.
  rules.push({
    kind: "masquerade",
    statement: `masquerade${fully}`,
    comment: NFT_MASQ_COMMENT,
    fullyRandom: flags.randomFully,
  });
  return rules;
}

/**
 * The desired table for a config that is valid under these flags (throws on a bad --to-ports,
 * as desiredChain does). Rules: LOCAL destinations return (upstream's jump has `-m addrtype !
 * --dst-type LOCAL`); without --enable-ipv6 IPv6 returns; set lookups return; then masquerade.
 */
export function desiredNftTable(config: MasqConfig, flags: AgentFlags): DesiredNftTable {
  // Drift, the path check and the node view each ask; a 4,096-CIDR config is parsed once.
  let byFlags = desiredCache.get(config);
  if (!byFlags) {
    byFlags = new WeakMap();
    desiredCache.set(config, byFlags);
  }
  let d = byFlags.get(flags);
  if (!d) {
    d = buildDesired(config, flags);
    byFlags.set(flags, d);
  }
  return d;
}

/** Per config and flags object (both are replaced, never edited, when they change). */
const desiredCache = new WeakMap<MasqConfig, WeakMap<AgentFlags, DesiredNftTable>>();

function buildDesired(config: MasqConfig, flags: AgentFlags): DesiredNftTable {
  const families: Family[] = flags.enableIPv6 ? ["ipv4", "ipv6"] : ["ipv4"];
  const sets = families.map((f) => setOf(config, f));
  const rules: DesiredNftRule[] = [
    { kind: "local-return", statement: "fib daddr type local return", comment: NFT_LOCAL_COMMENT },
  ];
  if (!flags.enableIPv6)
    rules.push({
      kind: "ipv6-off",
      statement: "meta nfproto ipv6 return",
      comment: NFT_IPV6_OFF_COMMENT,
    });
  for (const s of sets)
    rules.push({
      kind: "set-return",
      statement: `${s.family === "ipv4" ? "ip" : "ip6"} daddr @${s.name} return`,
      comment: NFT_NON_MASQ_COMMENT,
      set: s.name,
    });
  return { sets, rules: [...rules, ...masqueradeRules(flags)] };
}

/** What an apply must do besides writing the table, from what the node holds (see planNftApply). */
export interface NftApplyPlan {
  /**
   * Delete and re-create the whole table: the node's table has a set or chain whose type, flags,
   * hook or priority differ (nft refuses to change those in place). Moves the chain's place
   * among chains of equal priority (names.ts), so only when needed.
   */
  recreate: boolean;
  /** Chains, sets and maps in the table that are not the agent's, deleted in the transaction. */
  deleteChains: string[];
  deleteSets: string[];
  deleteMaps: string[];
}

export const NFT_FRESH_PLAN: NftApplyPlan = {
  recreate: false,
  deleteChains: [],
  deleteSets: [],
  deleteMaps: [],
};

const ELEMENTS_PER_LINE = 16;

function elementBlock(set: DesiredNftSet): string[] {
  const texts = set.ranges.map((r) => nftElementText(set.family, r));
  const lines: string[] = [];
  for (let i = 0; i < texts.length; i += ELEMENTS_PER_LINE)
    lines.push(`\t${texts.slice(i, i + ELEMENTS_PER_LINE).join(", ")},`);
  return lines.length === 0 ? [] : [`add element ${NFT_TABLE_REF} ${set.name} {`, ...lines, "}"];
}

/** nft's quoted string: comments never hold `"` (ours are constants). */
function quoted(text: string): string {
  return `"${text}"`;
}

/** The rule lines of the desired table, as `add rule` commands. */
function ruleCommands(d: DesiredNftTable): string[] {
  return d.rules.map(
    (r) => `add rule ${NFT_TABLE_REF} ${NFT_CHAIN} ${r.statement} comment ${quoted(r.comment)}`,
  );
}

/**
 * The `nft -f` script of one apply, one transaction (nft commits a file atomically or not at
 * all): create the table if missing, flush its rules (`flush table` empties chains, not sets),
 * declare the agent's sets and chain (a no-op when they exist alike; a mismatch fails the whole
 * transaction, then plan `recreate`), delete other objects, refill the sets, add the rules.
 * nft 1.0.6 (Debian 12) has no `destroy`: `table … {}` before `delete table` makes it safe.
 */
export function renderNftApply(
  config: MasqConfig,
  flags: AgentFlags,
  plan: NftApplyPlan = NFT_FRESH_PLAN,
): string {
  const d = desiredNftTable(config, flags);
  const lines = [`table ${NFT_TABLE_REF} {}`];
  if (plan.recreate) lines.push(`delete table ${NFT_TABLE_REF}`, `table ${NFT_TABLE_REF} {}`);
  // After the flush no rule refers to the objects deleted here.
  else
    lines.push(
      `flush table ${NFT_TABLE_REF}`,
      ...plan.deleteChains.map((c) => `delete chain ${NFT_TABLE_REF} ${c}`),
      ...plan.deleteSets.map((s) => `delete set ${NFT_TABLE_REF} ${s}`),
      ...plan.deleteMaps.map((m) => `delete map ${NFT_TABLE_REF} ${m}`),
    );
  for (const s of d.sets)
    lines.push(
      `add set ${NFT_TABLE_REF} ${s.name} { type ${s.type}; flags interval; }`,
      `flush set ${NFT_TABLE_REF} ${s.name}`,
    );
  lines.push(
    `add chain ${NFT_TABLE_REF} ${NFT_CHAIN} { type nat hook postrouting priority ${NFT_CHAIN_PRIORITY_NAME}; policy accept; }`,
    ...d.sets.flatMap(elementBlock),
    ...ruleCommands(d),
  );
  return `${lines.join("\n")}\n`;
}

/** Removes the agent's table, present or not (migration back to iptables, uninstall). */
export function renderNftRemove(): string {
  return `table ${NFT_TABLE_REF} {}\ndelete table ${NFT_TABLE_REF}\n`;
}
