// Pure planning for an apply: which jumps to add or delete, whether a write is needed at all,
// what a read-back must show, and the payload that restores the previous rules.
import {
  type AgentFlags,
  type ApplyPlan,
  analyzeSnapshot,
  assessFamily,
  chainLines,
  type Difference,
  type FamilyAnalysis,
  type FamilySnapshot,
  type MasqConfig,
  OTHER_COMPONENT_KINDS,
  type ParsedRule,
  POSTROUTING,
  postroutingRuleCount,
} from "@masq/shared";

/** The rule spec after `-A POSTROUTING `, as `-D`/`-I` take it. */
export function ruleSpec(rule: ParsedRule): string {
  return rule.text.replace(/^-A\s+\S+\s+/, "");
}

/** Keep one working jump (upstream's exact text first), delete every other jump to the chain. */
export function planJumps(a: FamilyAnalysis): ApplyPlan {
  const keep = a.jumps.find((j) => j.exact) ?? a.jumps.find((j) => j.canonical);
  return {
    addJump: keep === undefined,
    deleteJumps: a.jumps.filter((j) => j !== keep).map((j) => ruleSpec(j.rule)),
  };
}

/** Other components' rules on the path (before the jump or after it): reported, never rewritten. */
const NOT_OURS = OTHER_COMPONENT_KINDS;

export function differencesFor(
  config: MasqConfig,
  flags: AgentFlags,
  snap: FamilySnapshot,
): Difference[] {
  return assessFamily(config, flags, snap.family, snap).differences;
}

/**
 * The transaction this node needs, from one analysis of what it has: null when it already has
 * exactly the desired chain and one exact jump.
 */
export function planWrite(
  config: MasqConfig,
  flags: AgentFlags,
  snap: FamilySnapshot,
): ApplyPlan | null {
  const { observed, differences } = assessFamily(config, flags, snap.family, snap);
  return differences.some((d) => !NOT_OURS.has(d.kind)) ? planJumps(observed) : null;
}

/** False when the node already has exactly the desired chain and one exact jump. */
export function needsWrite(config: MasqConfig, flags: AgentFlags, snap: FamilySnapshot): boolean {
  return planWrite(config, flags, snap) !== null;
}

/** What is wrong with a read-back after an apply (empty: verified). */
export function verifyProblems(
  config: MasqConfig,
  flags: AgentFlags,
  snap: FamilySnapshot,
): string[] {
  if (snap.readError) return [`could not read back: ${snap.readError}`];
  const ownLine = (rule?: string) =>
    rule === undefined || rule.startsWith(`-A ${flags.masqChain} `);
  return differencesFor(config, flags, snap)
    .filter((d) => d.severity !== "info" && !NOT_OURS.has(d.kind))
    .filter((d) => d.kind !== "unreadable" || ownLine(d.rule))
    .map((d) => d.message);
}

/**
 * Puts back the chain and the jumps exactly as they were before an apply (jumps at their old
 * positions), and deletes the chain again if it did not exist. One transaction.
 */
export function rollbackPayload(
  chain: string,
  before: FamilySnapshot,
  after: FamilySnapshot,
): string {
  const was = analyzeSnapshot(before, chain);
  const now = analyzeSnapshot(after, chain);
  const lines = ["*nat", `:${chain} - [0:0]`];
  const had = chainLines(before, chain);
  lines.push(...(had ?? []).filter((l) => l.startsWith(`-A ${chain} `)));
  lines.push(...now.jumps.map((j) => `-D ${POSTROUTING} ${ruleSpec(j.rule)}`));
  let count = postroutingRuleCount(after) - now.jumps.length;
  for (const j of [...was.jumps].sort((x, y) => x.index - y.index)) {
    const position = Math.min(j.index + 1, count + 1);
    lines.push(`-I ${POSTROUTING} ${position} ${ruleSpec(j.rule)}`);
    count++;
  }
  if (had == null) lines.push(`-X ${chain}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}
