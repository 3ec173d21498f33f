// analyzeRuleset/analyzeFamily: a family's nat path from iptables text (chain, jumps, walk).

import type { Family } from "../cidr.js";
import {
  getChain,
  type ParsedChain,
  type ParsedRule,
  parseIptables,
  type Ruleset,
} from "../parser.js";
import { ruleComponent } from "../path/components.js";
import { compileRule } from "../path/matches.js";
import { outsideNetfilter } from "../path/outside-netfilter.js";
import type { Unknown } from "../path/types.js";
import { NAT_TABLE, POSTROUTING } from "../rules.js";
import { type ChainSummary, summarizeChain } from "./chain.js";
import { findJumps, shadowsOf } from "./jumps.js";
import { natChains, pathChains, runPath } from "./path.js";
import type { AnalysisContext, FamilyAnalysis } from "./types.js";

export type Tri = "yes" | "no" | "maybe";

function inertRules(
  chains: ReadonlyMap<string, ParsedChain>,
  reached: readonly string[],
  a: { family: Family; chain: string },
) {
  return reached.flatMap((name) =>
    (chains.get(name)?.rules ?? []).flatMap((rule, index) => {
      const why = compileRule(rule, a.family).matchesNothing;
      return why
        ? [{ chain: name, index, text: rule.text, component: ruleComponent(rule, a.chain), why }]
        : [];
    }),
  );
}

/** The agent chain's summary, from `memo` when these parsed rules were summarized before. */
function summaryOf(
  rules: readonly ParsedRule[],
  family: Family,
  memo: AnalysisContext["summaries"],
): ChainSummary {
  if (!memo) return summarizeChain(rules, family);
  let byFamily = memo.get(rules);
  if (!byFamily) {
    byFamily = new Map();
    memo.set(rules, byFamily);
  }
  let summary = byFamily.get(family);
  if (!summary) {
    summary = summarizeChain(rules, family);
    byFamily.set(family, summary);
  }
  return summary;
}

/**
 * Analyses the nat table of a parsed iptables-save dump or `-S` output. A chain in the ruleset
 * was read; one that is referenced but absent (and not a target extension), or listed in
 * `context.unread`, is unknown. Without POSTROUTING in the input, the answers are for `chain`
 * alone (as if POSTROUTING jumps to it) and no jump is reported missing.
 */
export function analyzeRuleset(
  ruleset: Ruleset,
  family: Family,
  chain: string,
  context: AnalysisContext = {},
): FamilyAnalysis {
  const chains = natChains(ruleset);
  const own = getChain(ruleset, NAT_TABLE, chain);
  const postrouting = getChain(ruleset, NAT_TABLE, POSTROUTING);
  const summary = summaryOf(own?.rules ?? [], family, context.summaries);
  const jumps = findJumps(postrouting?.rules ?? [], chain, family);
  const source = {
    family,
    chain,
    chains,
    postroutingRead: postrouting !== undefined,
    unread: [...(context.unread ?? [])],
  };
  const walk = runPath(source, { family });
  const unknowns: Unknown[] = [...walk.unknowns];
  if (context.unreadBackend)
    unknowns.push({
      kind: "other-backend",
      message: `iptables-${context.unreadBackend === "nf_tables" ? "nft" : "legacy"} also holds rules, which were not read: they act on packets too`,
    });
  const outside = outsideNetfilter(
    [...chains.values()].map((c) => ({
      name: c.name,
      masquerades: c.rules.some((r) => r.target === "MASQUERADE"),
    })),
  );
  if (outside) unknowns.push(outside);
  if (!own && source.postroutingRead && !walk.reached.includes(chain))
    unknowns.push({
      kind: "chain-missing",
      chain,
      message: `${chain} is not in the input (it may not exist)`,
    });
  return {
    family,
    chain,
    chainExists: own !== undefined,
    ...summary,
    jumps,
    shadows: shadowsOf(postrouting?.rules ?? [], jumps, walk.outcomes),
    errors: [],
    chains,
    postroutingRead: source.postroutingRead,
    unread: source.unread,
    ...(context.backend ? { backend: context.backend } : {}),
    path: pathChains(source, walk.reached),
    outcomes: walk.outcomes,
    inert: inertRules(chains, walk.reached, source),
    unknowns,
  };
}

export interface FamilyInput {
  family: Family;
  chain: string;
  /** `iptables -S CHAIN` text, or null when the chain does not exist. */
  chainText: string | null;
  postroutingText: string;
}

/** Analyses one family from the two `-S` outputs a v1 reporter reads (POSTROUTING always read). */
export function analyzeFamily(input: FamilyInput): FamilyAnalysis {
  const text = `${input.chainText ?? ""}\n${input.postroutingText}`;
  const { ruleset, errors } = parseIptables(text, NAT_TABLE);
  const nat = ruleset.tables.get(NAT_TABLE) ?? new Map<string, ParsedChain>();
  ruleset.tables.set(NAT_TABLE, nat);
  if (!nat.has(POSTROUTING)) nat.set(POSTROUTING, { name: POSTROUTING, rules: [] });
  const a = analyzeRuleset(ruleset, input.family, input.chain);
  if (input.chainText === null) {
    a.chainExists = false;
    a.unknowns = a.unknowns.filter((u) => u.kind !== "chain-missing");
  }
  a.errors = errors;
  return a;
}
