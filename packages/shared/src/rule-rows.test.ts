// The desired side shows each rule as a node lists it (`iptables -S` order), so the packet
// tester and the node page never show one rule twice in two argument orders.
import { excMasq, JUMP, masq, postroutingS, ret } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { evaluate } from "./analysis/evaluate.js";
import { analyzeFamily } from "./analysis/ruleset.js";
import { assessLinux } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { linuxNodeView } from "./node-view.js";
import { desiredAnalysis } from "./rule-rows.js";
import { desiredChain } from "./rules.js";
import { snapshotOf } from "./snapshot.js";

const CONFIG: MasqConfig = {
  ...defaultConfig(),
  nonMasqueradeCIDRs: ["10.0.0.0/8"],
  masqueradeCIDRs: ["10.100.10.0/24"],
};
/** The chain a node applying CONFIG lists (`iptables -S`: addresses before the comment). */
const LISTED = [
  "-N IP-MASQ-AGENT",
  excMasq("10.100.10.0/24"),
  ret("169.254.0.0/16"),
  ret("10.0.0.0/8"),
  masq(),
];

function decidingText(which: "desired" | "node", ip: string): string | undefined {
  const analysis =
    which === "desired"
      ? desiredAnalysis(desiredChain(CONFIG, DEFAULT_FLAGS, "ipv4"))
      : analyzeFamily({
          family: "ipv4",
          chain: "IP-MASQ-AGENT",
          chainText: LISTED.join("\n"),
          postroutingText: postroutingS([JUMP]).join("\n"),
        });
  const v = evaluate(analysis, ip);
  if ("error" in v) throw new Error(v.error);
  return v.decidedBy?.text;
}

describe("the deciding rule's text: one form on both sides", () => {
  const tests: { desc: string; input: string; want: string }[] = [
    { desc: "a nonMasqueradeCIDRs RETURN", input: "10.1.2.3", want: ret("10.0.0.0/8") },
    { desc: "the link-local RETURN", input: "169.254.1.1", want: ret("169.254.0.0/16") },
    {
      desc: "a masqueradeCIDRs MASQUERADE",
      input: "10.100.10.5",
      want: excMasq("10.100.10.0/24"),
    },
    { desc: "the final MASQUERADE", input: "8.8.8.8", want: masq() },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(decidingText("desired", input)).toBe(want);
    expect(decidingText("node", input)).toBe(want);
  });
});

describe("the node page's rows: one form on both sides", () => {
  it("an in-sync node's rows show the same text as desired and as the node's", () => {
    const snap = snapshotOf({ family: "ipv4", chain: LISTED, postrouting: postroutingS([JUMP]) });
    const rows = linuxNodeView(assessLinux(CONFIG, DEFAULT_FLAGS, [snap])).families[0]!.rows;
    expect(rows.map((r) => [r.state, r.desired?.text])).toEqual(
      rows.map((r) => ["same", r.actual?.text]),
    );
  });
});
