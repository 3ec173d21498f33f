// The analysis of one family's nat rules as a node (or a pasted dump) shows them.
import type { Cidr, Family } from "../cidr.js";
import type { ParsedChain, ParsedRule, ParseError } from "../parser.js";
import type { PathChain, PathOutcome, RuleRef, Unknown } from "../path/types.js";
import type { IptablesBackend } from "../protocol.js";
import type { ChainEntry, ChainSummary, FirstMatch } from "./chain.js";
import type { JumpInfo, Shadow } from "./jumps.js";

export interface FamilyAnalysis {
  family: Family;
  chain: string;
  chainExists: boolean;
  entries: ChainEntry[];
  /** Each unconditional RETURN and masqueradeCIDRs MASQUERADE with what it decides, in order. */
  decisions: FirstMatch[];
  /** Destinations that certainly RETURN before the first unconditional MASQUERADE, in order. */
  returns: Cidr[];
  /** Index of the first unconditional MASQUERADE, if any. */
  finalMasquerade?: number;
  /** Entries after finalMasquerade, which no packet reaches. */
  unreachable: number[];
  jumps: JumpInfo[];
  /** POSTROUTING rules before the first jump through which some packets are decided first. */
  shadows: Shadow[];
  errors: ParseError[];
  /** The nat chains that were read, by name (holds bigints: not for JSON). */
  chains: ReadonlyMap<string, ParsedChain>;
  /** False when POSTROUTING was not in the input: answers are then for the agent chain alone. */
  postroutingRead: boolean;
  /** Chains known to be reachable that were not read. */
  unread: string[];
  /** The base chain the walk starts at when it is not POSTROUTING (an nftables base chain). */
  start?: string;
  /** The iptables backend the rules were read from, when known. */
  backend?: IptablesBackend;
  /** Chains on the path from POSTROUTING, in the order first reached, with their components. */
  path: PathChain[];
  /** What happens to every pod packet to a non-local destination, branch by branch. */
  outcomes: PathOutcome[];
  /** Rules on the path that no packet matches (e.g. `! -d 0.0.0.0/0`). */
  inert: (RuleRef & { why: string })[];
  /** What the analysis could not see. */
  unknowns: Unknown[];
}

/** What the caller knows about the input besides its text (the 4th argument of analyzeRuleset). */
export interface AnalysisContext {
  backend?: IptablesBackend;
  /** Chains reachable from POSTROUTING that were not read (a bound was hit): unknown. */
  unread?: readonly string[];
  /**
   * The other iptables backend also holds rules, which were not read (iptables-nft prints
   * "# Warning: iptables-legacy tables present"): they act on packets too, so "not
   * masqueraded" cannot be certain.
   */
  unreadBackend?: IptablesBackend;
  /**
   * The agent chain's summary per parsed rules array and family, shared by analyses whose
   * rulesets share parsed chains (assess-cache.ts); read only, never mutated.
   */
  summaries?: WeakMap<readonly ParsedRule[], Map<Family, ChainSummary>>;
}
