// Words of the node page that depend on what the node runs: a native nftables node has nft
// rules and a base chain on the hook, not iptables rules and a POSTROUTING jump.
import type { FamilyView, JumpView, RuleRole } from "@masq/shared";

/** The label of the checkbox that shows each rule as the node's tool prints it. */
export function rawRulesLabel(families: readonly Pick<FamilyView, "nftables">[]): string {
  const nft = families.filter((f) => f.nftables).length;
  if (nft === 0) return "Show iptables rules";
  return nft === families.length ? "Show nft rules" : "Show iptables and nft rules";
}

const JUMP: Record<JumpView["state"], string> = {
  present: "POSTROUTING: Jump present",
  missing: "POSTROUTING: Jump missing",
  duplicate: "POSTROUTING: Duplicate jump",
  shadowed: "POSTROUTING: Jump shadowed",
  modified: "POSTROUTING: Jump modified",
};

/** The heading of the jump panel; on nftables the agent's base chain is hooked, not jumped to. */
export function jumpHeading(state: JumpView["state"], nftables: boolean): string {
  if (!nftables) return JUMP[state];
  return state === "present"
    ? "nat postrouting: the agent's base chain is hooked"
    : "nat postrouting: the agent's base chain is missing";
}

/**
 * Each rule role's words on the node page (RuleView.role, the analysis's): a short tag beside the
 * rule's title, in the terms of the target, and what it means (its tooltip). A Record over the
 * shared type: a role added there fails the typecheck here, and the test renders every one.
 */
export const RULE_ROLE_WORDS: Record<RuleRole, { tag: string; meaning: string }> = {
  return: { tag: "RETURN", meaning: "packets it matches keep their pod IP" },
  masquerade: {
    tag: "MASQUERADE",
    meaning: "packets it matches leave with the node's IP instead of the pod IP",
  },
  foreign: {
    tag: "other target",
    meaning:
      "neither keeps the pod IP nor masquerades: another target, or a rule the dashboard does not understand",
  },
};
