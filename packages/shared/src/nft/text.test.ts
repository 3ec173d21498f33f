import { describe, expect, it } from "vitest";
import { ruleText } from "./text.js";

const mark = (op: string, right: unknown) => ({
  match: {
    op,
    left: { "&": [{ meta: { key: "mark" } }, 16384] },
    right,
  },
});

// As `nft list ruleset` prints kube-proxy's (nftables mode) and the agent's rules.
describe("ruleText: a rule as nft prints it", () => {
  const cases: { desc: string; input: unknown[]; want: string }[] = [
    {
      desc: "a masked mark compared with 0: `==` and the value in hex (kube-proxy's return)",
      input: [mark("==", 0), { return: null }],
      want: "meta mark & 0x00004000 == 0x00000000 return",
    },
    {
      desc: "a masked mark not 0",
      input: [mark("!=", 0), { return: null }],
      want: "meta mark & 0x00004000 != 0x00000000 return",
    },
    {
      desc: "a plain match leaves `==` out",
      input: [
        {
          match: {
            op: "==",
            left: { payload: { protocol: "ip", field: "daddr" } },
            right: "@nonmasq_v4",
          },
        },
        { return: null },
      ],
      want: "ip daddr @nonmasq_v4 return",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(ruleText(input)).toBe(want);
  });
});
