// Both answers for one packet on a Linux node, as the dashboard's tester asks them: the desired
// one from the desired rules of the node's own backend, and the node's own across every backend
// that holds rules (they all act on the same packets), with the backends the answer read. The
// one place that picks what to evaluate, so no caller judges one backend where several hold
// rules, or an nftables node by the iptables chain.
import type { CombinedVerdict } from "./analysis/backends.js";
import { evaluate, type PacketFields, type Verdict } from "./analysis/evaluate.js";
import type { FamilyAnalysis } from "./analysis/types.js";
import { BACKEND_LABELS, evaluateSnapshots } from "./assess.js";
import type { NftFamilyAnalysis } from "./nft/analysis.js";
import { evaluateNft } from "./nft/evaluate.js";
import type { FamilySnapshot, IptablesBackend } from "./protocol.js";
import { desiredAnalysis } from "./rule-rows.js";
import type { DesiredChain } from "./rules.js";

/** Whose rules an answer read: an iptables backend, or the native nftables ruleset. */
export type RulesBackend = IptablesBackend | "nftables";

export const RULES_BACKEND_LABELS: Record<RulesBackend, string> = {
  ...BACKEND_LABELS,
  nftables: "nftables",
};

/** What a node's answer is computed from, per kind of node. */
export type NodeRules =
  | {
      kind: "nftables";
      /** The node's nat postrouting hooks (with iptables' of each backend holding rules). */
      actual: NftFamilyAnalysis;
      /** The desired agent table alone on the hook. */
      desired: NftFamilyAnalysis;
    }
  | {
      kind: "iptables";
      /** Every backend that reported the family. */
      snaps: readonly FamilySnapshot[];
      desired: DesiredChain;
      /** The one backend's analysis, already made, when there is at most one. */
      observed?: FamilyAnalysis;
    };

export interface NodeVerdicts {
  desired: Verdict;
  actual: Verdict | CombinedVerdict;
  /** The backends `actual` read (each is named on the answer). */
  backends: RulesBackend[];
}

/** The backends an nftables family's answer reads: nftables, and each hooked iptables backend. */
export function nftRulesBackends(fa: NftFamilyAnalysis): RulesBackend[] {
  return ["nftables", ...new Set(fa.hooks.flatMap((h) => (h.backend ? [h.backend] : [])))];
}

/** Both answers for `ip`; an error for a bad address or field. */
export function nodeVerdicts(
  rules: NodeRules,
  ip: string,
  fields: PacketFields = {},
): NodeVerdicts | { error: string } {
  if (rules.kind === "nftables") {
    const desired = evaluateNft(rules.desired, ip, fields);
    if ("error" in desired) return desired;
    const actual = evaluateNft(rules.actual, ip, fields);
    if ("error" in actual) return actual;
    return { desired, actual, backends: nftRulesBackends(rules.actual) };
  }
  const desired = evaluate(desiredAnalysis(rules.desired), ip, fields);
  if ("error" in desired) return desired;
  const { snaps, observed } = rules;
  const actual =
    snaps.length <= 1 && observed
      ? evaluate(observed, ip, fields)
      : evaluateSnapshots(snaps, rules.desired.chain, ip, fields);
  if ("error" in actual) return actual;
  return { desired, actual, backends: snaps.map((s) => s.backend) };
}
