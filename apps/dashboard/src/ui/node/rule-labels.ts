// Words of the node page that depend on what the node runs: a native nftables node has nft
// rules and a base chain on the hook, not iptables rules and a POSTROUTING jump.
import type { FamilyView, JumpView } from "@masq/shared";

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
