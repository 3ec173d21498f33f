import { describe, expect, it } from "vitest";
import { jumpHeading, rawRulesLabel } from "./rule-labels";

const nft = { nftables: { backend: "nftables" as const, hooks: [] } };

describe("rawRulesLabel", () => {
  const cases: { desc: string; input: Parameters<typeof rawRulesLabel>[0]; want: string }[] = [
    { desc: "iptables node", input: [{}, {}], want: "Show iptables rules" },
    { desc: "native nftables node", input: [nft], want: "Show nft rules" },
    { desc: "both kinds", input: [nft, {}], want: "Show iptables and nft rules" },
    { desc: "nothing reported yet", input: [], want: "Show iptables rules" },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(rawRulesLabel(input)).toBe(want));
});

describe("jumpHeading", () => {
  const cases: { desc: string; input: Parameters<typeof jumpHeading>; want: string }[] = [
    { desc: "iptables, jump there", input: ["present", false], want: "POSTROUTING: Jump present" },
    { desc: "iptables, shadowed", input: ["shadowed", false], want: "POSTROUTING: Jump shadowed" },
    {
      desc: "nftables: no jump, a base chain",
      input: ["present", true],
      want: "nat postrouting: the agent's base chain is hooked",
    },
    {
      desc: "nftables, table gone",
      input: ["missing", true],
      want: "nat postrouting: the agent's base chain is missing",
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(jumpHeading(...input)).toBe(want));
});
