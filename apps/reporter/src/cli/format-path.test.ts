import type { Verdict } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { formatVerdict } from "./format-path.js";

const legacyMasq = {
  masqueraded: true,
  conditions: [],
  via: ["POSTROUTING"],
  backend: "legacy",
  decidedBy: {
    chain: "POSTROUTING",
    index: 0,
    text: "-A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
    component: { id: "unknown", name: "unknown", by: "none" },
  },
};
const verdict = (backends: number) =>
  ({
    ip: "10.1.2.3",
    masqueraded: true,
    certain: true,
    reason: "legacy: POSTROUTING rule 1 masquerades it",
    outcomes: [legacyMasq],
    unknowns: [],
    ...(backends > 0
      ? { backends: Array.from({ length: backends }, () => ({})), orderMatters: false }
      : {}),
  }) as unknown as Verdict;

// A new user's find: `ipmasq why` said "decided by POSTROUTING rule 1" for a legacy table's rule
// beside iptables-nft's, the backend only on the line after.
describe("formatVerdict: the deciding rule's backend when several were read", () => {
  const cases: { desc: string; input: Verdict; want: string }[] = [
    {
      desc: "two backends read: the backend named",
      input: verdict(2),
      want: "  decided by POSTROUTING rule 1 in iptables-legacy: -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
    },
    {
      desc: "one backend: nothing to tell apart",
      input: verdict(0),
      want: "  decided by POSTROUTING rule 1: -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(formatVerdict(input, "IP-MASQ-AGENT").split("\n")[1]).toBe(want);
  });
});
