// What a node's nat rules do: the agent's chain rule by rule (analysis/chain), POSTROUTING's
// jumps to it (analysis/jumps), and the whole path every pod packet takes through POSTROUTING
// and the chains it reaches (path/), with evaluate(ip) → masqueraded or not, and why.

export {
  type CombinedVerdict,
  combineBackendVerdicts,
  evaluateAcrossBackends,
  MAX_COMBINED_OUTCOMES,
} from "./backends.js";
export type { ChainEntry, RuleRole } from "./chain.js";
export { familyCidr, firstMatchDecisions, firstMatchReturns, RULE_ROLES } from "./chain.js";
export {
  type AgentEntry,
  agentEntryOf,
  entryInConfig,
  markEntriesNotInConfig,
} from "./entry.js";
export {
  evaluate,
  outcomeSummary,
  type PacketFields,
  type Verdict,
  type VerdictOutcome,
  verdictOf,
} from "./evaluate.js";
export type { JumpInfo, Shadow } from "./jumps.js";
export { runPath } from "./path.js";
export {
  analyzeFamily,
  analyzeRuleset,
  type FamilyInput,
  type Tri,
} from "./ruleset.js";
export type { AnalysisContext, FamilyAnalysis } from "./types.js";
