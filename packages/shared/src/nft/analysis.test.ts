import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { analyzeNftFamily } from "./analysis.js";
import { parseNftJson } from "./parse.js";

/** The agent chain's summary in words: `role [conditions]`, the final masquerade, the returns. */
function summary(dump: string) {
  const a = analyzeNftFamily(parseNftJson(nftDump(dump)), "ipv4").agent!.analysis;
  return {
    entries: a.entries.map(
      (e) =>
        `${e.role}${e.conditions.length ? ` [${e.conditions.join(", ")}]` : ""}${e.matchesNothing ? " (never)" : ""}`,
    ),
    finalMasquerade: a.finalMasquerade,
    returns: a.returns.map((c) => c.canonical),
  };
}

describe("the agent's chain summary on nft rules", () => {
  const cases: { desc: string; input: string; want: ReturnType<typeof summary> }[] = [
    {
      desc: "a set lookup is a condition, never 'all traffic returns'",
      input: "agent-default",
      want: {
        entries: [
          "return [fib daddr type local]",
          "return (never)",
          "return [@nonmasq_v4]",
          "masquerade",
        ],
        finalMasquerade: 3,
        returns: ["10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"],
      },
    },
    {
      desc: "a hand-inserted accept is foreign with its condition",
      input: "agent-hand-edit",
      want: {
        entries: [
          "foreign [10.100.64.0/18]",
          "return [fib daddr type local]",
          "return (never)",
          "return [@nonmasq_v4]",
          "masquerade",
        ],
        finalMasquerade: 4,
        returns: ["169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.0/24"],
      },
    },
    {
      desc: "a rule not understood is foreign",
      input: "agent-not-understood",
      want: {
        entries: [
          "foreign",
          "return [fib daddr type local]",
          "return (never)",
          "return [@nonmasq_v4]",
          "masquerade",
        ],
        finalMasquerade: 4,
        returns: ["10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"],
      },
    },
  ];
  for (const { desc, input, want } of cases) it(desc, () => expect(summary(input)).toEqual(want));
});
