import { RULE_ROLES, type RuleView } from "@masq/shared";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { RuleCell } from "./ChainsComparison";
import { jumpHeading, RULE_ROLE_WORDS, rawRulesLabel } from "./rule-labels";

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

// Every role the shared analysis can give a rule is rendered in words on the node page: the nft
// view's "foreign" (a rule the agent's table does not want) was not rendered at all.
describe("RuleCell: each rule role in words", () => {
  for (const role of RULE_ROLES)
    it(role, () => {
      const words = RULE_ROLE_WORDS[role];
      const rule: RuleView = { index: 0, text: "-A X -j Y", title: "a rule", role };
      const html = renderToStaticMarkup(
        createElement(RuleCell, { rule, showRaw: false, side: "actual" }),
      );
      expect(html).toContain(words.tag);
      expect(html).toContain(`data-role="${role}"`);
      expect(words.meaning.length).toBeGreaterThan(words.tag.length);
    });

  it("no two roles share words", () => {
    const tags = RULE_ROLES.map((r) => RULE_ROLE_WORDS[r].tag);
    expect(new Set(tags).size).toBe(RULE_ROLES.length);
  });
});
