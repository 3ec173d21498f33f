// An nftables ruleset as the analysis types the iptables path uses. Each base chain on the nat
// postrouting hook of a table of the family (ip/ip6 and inet) is one FamilyAnalysis, walked
// from that chain (jump/goto, return = the base chain's end, its policy), in priority order.
// Across them the kernel's rule holds (nf_nat_inet_fn, net/netfilter/nf_nat_core.c): nat base
// chains run by priority; one that accepts or ends without NAT passes the packet to the next;
// the first that sets up a NAT binding ends the walk. Chains of equal priority run in an order
// the rules do not show (names.ts).
import type { ChainEntry, FirstMatch, RuleRole } from "../analysis/chain.js";
import { pathChains, runPath } from "../analysis/path.js";
import type { FamilyAnalysis } from "../analysis/types.js";
import { type Family, mustParseCidr } from "../cidr.js";
import { type ParsedChain, type ParsedRule, targetArg } from "../parser.js";
import { ruleComponent } from "../path/components.js";
import { outsideNetfilter } from "../path/outside-netfilter.js";
import { setToCidrs } from "../path/range-set.js";
import type { Unknown } from "../path/types.js";
import type { IptablesBackend, NftChainRef } from "../protocol.js";
import {
  NFT_CHAIN,
  NFT_IPV6_OFF_COMMENT,
  NFT_LOCAL_COMMENT,
  NFT_MASQ_COMMENT,
  NFT_NON_MASQ_COMMENT,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
} from "./names.js";
import {
  baseChainsOn,
  type NftChain,
  type NftRule,
  type NftRuleset,
  type NftTable,
} from "./parse.js";
import { chainRef, translateRule } from "./translate.js";

/** The agent's base chain as the analysis names it. */
export const NFT_AGENT_CHAIN_REF = `${NFT_TABLE_FAMILY} ${NFT_TABLE} ${NFT_CHAIN}`;

export interface NftHook {
  /** "ip kube-proxy nat-postrouting", or "iptables-nft (nf_tables) nat POSTROUTING". */
  ref: string;
  /** The nft table and base chain; absent for iptables' nat POSTROUTING (iptables-hooks.ts). */
  table?: NftTable;
  chain?: NftChain;
  priority: number;
  /** The agent's own base chain. */
  agent: boolean;
  /** iptables' nat POSTROUTING: the iptables backend it was read from. */
  backend?: IptablesBackend;
  analysis: FamilyAnalysis;
}

export interface NftFamilyAnalysis {
  family: Family;
  /** Base chains on nat postrouting, lowest priority (first to run) first. */
  hooks: NftHook[];
  /** The agent's hook, when its table has its base chain. */
  agent?: NftHook;
  /** The agent's table exists (with or without its chain). */
  agentTable: boolean;
  /** What the analysis could not see or decide across the hooks. */
  unknowns: Unknown[];
}

/** The nft families whose tables act on packets of `family`. */
export function tableFamilies(family: Family): string[] {
  return family === "ipv4" ? ["ip", "inet"] : ["ip6", "inet"];
}

function chainsOf(table: NftTable, family: Family): Map<string, ParsedChain> {
  const out = new Map<string, ParsedChain>();
  for (const c of table.chains.values()) {
    const ref = chainRef(table, c.name);
    const rules = c.rules.flatMap((r) => translateRule(table, c.name, r, family));
    out.set(ref, { name: ref, ...(c.base ? { policy: c.base.policy.toUpperCase() } : {}), rules });
  }
  return out;
}

function inert(
  chains: ReadonlyMap<string, ParsedChain>,
  reached: readonly string[],
  agent: string,
) {
  return reached.flatMap((name) =>
    (chains.get(name)?.rules ?? []).flatMap((rule, index) => {
      const why = rule.compiled?.matchesNothing;
      // A rule for the other family is not inert: it acts on the other family's packets.
      if (!why || /family|packets only|never holds for/.test(why)) return [];
      return [{ chain: name, index, text: rule.text, component: ruleComponent(rule, agent), why }];
    }),
  );
}

/** Destinations that certainly return before the first unconditional masquerade. */
/**
 * The agent chain's non-masquerade set lookups before its final masquerade: what each decides
 * (its ranges, first match deciding, as the iptables chain's decisions) and as CIDRs.
 */
function agentReturns(rules: readonly ParsedRule[], family: Family) {
  const returns: ReturnType<typeof mustParseCidr>[] = [];
  const decisions: FirstMatch[] = [];
  for (const [index, r] of rules.entries()) {
    const tests = r.compiled?.tests ?? [];
    if (r.target === "MASQUERADE" && tests.length === 0) break;
    const only = tests.length === 1 ? tests[0] : undefined;
    if (r.target !== "RETURN" || only?.test.kind !== "address-set" || only.negated) continue;
    decisions.push({ index, masquerade: false, set: only.test.ranges });
    for (const c of setToCidrs(family, only.test.ranges)) returns.push(mustParseCidr(c));
  }
  return { returns, decisions };
}

const OWN_COMMENTS: ReadonlySet<string | undefined> = new Set([
  NFT_LOCAL_COMMENT,
  NFT_IPV6_OFF_COMMENT,
  NFT_NON_MASQ_COMMENT,
  NFT_MASQ_COMMENT,
]);

/** What a rule of the agent's chain is: an unreadable one is foreign whatever its target. */
function roleOf(rule: ParsedRule): ChainEntry["role"] {
  if (rule.unreadable !== undefined) return "foreign";
  if (rule.target === "RETURN") return "return";
  return rule.target === "MASQUERADE" ? "masquerade" : "foreign";
}

/**
 * What one rule of the agent's chain does, as a whole (the node page's role of a rule its desired
 * table lacks: the agent's own for other flags keeps or masquerades, it is not foreign). A verdict
 * map whose parts differ is foreign.
 */
export function nftRuleRole(table: NftTable, rule: NftRule, family: Family): RuleRole {
  const roles = new Set(translateRule(table, NFT_CHAIN, rule, family).map(roleOf));
  return roles.size === 1 ? [...roles][0]! : "foreign";
}

function nftEntry(rule: ParsedRule, index: number): ChainEntry {
  const tests = rule.compiled?.tests ?? [];
  const role = roleOf(rule);
  const toPorts = targetArg(rule, "--to-ports")?.args[0];
  const matchesNothing = rule.compiled?.matchesNothing;
  return {
    index,
    rule,
    role,
    negated: false,
    conditions: tests.map((t) => `${t.negated ? "not " : ""}${t.test.text}`),
    legacy: false,
    ownComment: OWN_COMMENTS.has(rule.comment),
    ...(toPorts ? { toPorts } : {}),
    ...(role === "masquerade"
      ? { randomFully: targetArg(rule, "--random-fully") !== undefined }
      : {}),
    ...(matchesNothing ? { matchesNothing } : {}),
  };
}

/** The agent's chain rule by rule, its conditions in nft words (a set lookup is one). */
function nftEntries(rules: readonly ParsedRule[]): ChainEntry[] {
  return rules.map(nftEntry);
}

/** The agent chain's summary (entries, returns, the final masquerade) for nft rules. */
function agentSummary(rules: readonly ParsedRule[], family: Family) {
  const entries = nftEntries(rules);
  const final = entries.find(
    (e) => e.role === "masquerade" && e.conditions.length === 0 && !e.matchesNothing,
  );
  return {
    entries,
    ...agentReturns(rules, family),
    finalMasquerade: final?.index,
    unreachable: final ? entries.slice(final.index + 1).map((e) => e.index) : [],
  };
}

function hookAnalysis(
  table: NftTable,
  chain: NftChain,
  family: Family,
  unread: readonly string[],
): FamilyAnalysis {
  const chains = chainsOf(table, family);
  const start = chainRef(table, chain.name);
  const source = {
    family,
    chain: NFT_AGENT_CHAIN_REF,
    chains,
    postroutingRead: true,
    unread,
    start,
  };
  const walk = runPath(source, { family });
  const own = chains.get(NFT_AGENT_CHAIN_REF);
  return {
    family,
    chain: NFT_AGENT_CHAIN_REF,
    chainExists: own !== undefined,
    ...agentSummary(own?.rules ?? [], family),
    jumps: [],
    shadows: [],
    errors: [],
    chains,
    postroutingRead: true,
    unread: [...unread],
    start,
    path: pathChains(source, walk.reached),
    outcomes: walk.outcomes,
    inert: inert(chains, walk.reached, NFT_AGENT_CHAIN_REF),
    unknowns: walk.unknowns,
  };
}

export function orderUnknowns(hooks: readonly NftHook[]): Unknown[] {
  const out: Unknown[] = [];
  for (let i = 1; i < hooks.length; i++) {
    const a = hooks[i - 1]!;
    const b = hooks[i]!;
    if (a.priority === b.priority)
      out.push({
        kind: "hook-order",
        message: `${a.ref} and ${b.ref} both have priority ${a.priority}: the kernel runs them in the order they were registered, which the rules do not show`,
      });
  }
  return out;
}

/**
 * The nat postrouting path of one family of an nftables ruleset. `unread`: chains known to exist
 * that were not read (their effect is unknown); parse errors of the ruleset are unknowns too.
 */
export function analyzeNftFamily(
  rs: NftRuleset,
  family: Family,
  unread: readonly NftChainRef[] = [],
): NftFamilyAnalysis {
  const families = tableFamilies(family);
  const unreadRefs = unread
    .filter((u) => families.includes(u.family))
    .map((u) => `${u.family} ${u.table} ${u.chain}`);
  const hooks: NftHook[] = baseChainsOn(rs, "postrouting", "nat")
    .filter(({ table }) => families.includes(table.family))
    .map(({ table, chain }) => {
      const ref = chainRef(table, chain.name);
      return {
        ref,
        table,
        chain,
        priority: chain.base!.priority,
        agent: ref === NFT_AGENT_CHAIN_REF,
        analysis: hookAnalysis(table, chain, family, unreadRefs),
      };
    });
  const errors: Unknown[] = rs.errors.map((e) => ({
    kind: "unreadable-rule",
    message: `${e.at}: ${e.reason}`,
  }));
  const tables = [...rs.tables.values()].filter((t) => families.includes(t.family));
  const outside = outsideNetfilter(
    tables.flatMap((t) =>
      [...t.chains.values()].map((c) => ({
        name: c.name,
        masquerades: c.rules.some((r) => r.expr.some(isMasquerade)),
      })),
    ),
  );
  if (outside) errors.push(outside);
  return {
    family,
    hooks,
    agent: hooks.find((h) => h.agent),
    agentTable: rs.tables.has(`${NFT_TABLE_FAMILY} ${NFT_TABLE}`),
    unknowns: errors,
  };
}

const isMasquerade = (e: unknown) => typeof e === "object" && e !== null && "masquerade" in e;
const setsMark = (r: ParsedRule) => r.target === "MARK" || r.target === "CONNMARK";
const testsMark = (r: ParsedRule) => (r.compiled?.tests ?? []).some((t) => t.test.kind === "mark");

/**
 * A mark rule that may run on a branch where `h` does not NAT (so the packet goes on to the next
 * chains with its mark changed): one before the rule that ended the branch, or anywhere on a
 * branch that ran to its chain's end. kube-proxy's `mark set mark xor 0x4000` runs only after
 * its `mark and 0x4000 == 0 return`, on the branch that masquerades: not handed on.
 */
function handsOnMark(h: NftHook): string | undefined {
  for (const o of h.analysis.outcomes) {
    if (o.masqueraded === true) continue;
    for (const name of o.via) {
      const rules = h.analysis.chains.get(name)?.rules ?? [];
      const end = o.decidedBy?.chain === name ? o.decidedBy.index : rules.length;
      const i = rules.slice(0, end).findIndex(setsMark);
      if (i >= 0) return `${name} rule ${i + 1}`;
    }
  }
  return undefined;
}

/**
 * Chains evaluate as if the packet's mark were the same in each; when one may change the mark
 * and hand the packet on to another that tests marks (later, or of equal priority), that is not
 * so and the answer says it does not know.
 */
export function markHandOver(hooks: readonly NftHook[]): Unknown | undefined {
  for (const a of hooks) {
    const set = handsOnMark(a);
    if (!set) continue;
    for (const b of hooks) {
      if (b === a || b.priority < a.priority) continue;
      const test = [...b.analysis.chains.values()].flatMap((c) => c.rules).find(testsMark);
      if (test)
        return {
          kind: "hook-order",
          message: `${set} may change the mark before ${b.ref} tests it (${test.chain}): the answer takes the mark as unchanged between chains`,
        };
    }
  }
  return undefined;
}
