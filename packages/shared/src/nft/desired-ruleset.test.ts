import { nftDump, RANGES_CONFIG, RANGES_FLAGS } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { evaluate } from "../analysis/evaluate.js";
import { type AgentFlags, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "../config.js";
import { desiredNftAnalysis, desiredNftRuleset } from "./desired-ruleset.js";
import { nftTableDrift } from "./drift.js";
import { parseNftJson } from "./parse.js";

/** A real dump as the desired ruleset is written: no metainfo, no handles. */
function withoutHandles(dump: string): unknown[] {
  const objects = (nftDump(dump) as { nftables: Record<string, Record<string, unknown>>[] })
    .nftables;
  return objects
    .filter((o) => !("metainfo" in o))
    .map((o) =>
      Object.fromEntries(Object.entries(o).map(([kind, { handle: _, ...body }]) => [kind, body])),
    );
}

describe("desiredNftRuleset: the desired table as real nft lists it once applied", () => {
  const cases: { desc: string; input: { config: MasqConfig; flags: AgentFlags }; want: string }[] =
    [
      {
        desc: "the default config",
        input: { config: defaultConfig(), flags: DEFAULT_FLAGS },
        want: "agent-default",
      },
      {
        desc: "IPv6, no fully-random, two --to-ports intervals (numgen shares)",
        input: {
          config: {
            ...defaultConfig(),
            nonMasqueradeCIDRs: ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"],
          },
          flags: {
            ...DEFAULT_FLAGS,
            enableIPv6: true,
            randomFully: false,
            toPorts: "1024-29999,32768-65535",
          },
        },
        want: "agent-ipv6-ports",
      },
      {
        desc: "ranges, single addresses and one port",
        input: { config: RANGES_CONFIG, flags: RANGES_FLAGS },
        want: "agent-ranges",
      },
    ];
  it.each(cases)("$desc", ({ input, want }) => {
    const got = desiredNftRuleset(input.config, input.flags);
    expect(got).toEqual(withoutHandles(want));
    // Read back, it is the desired table: no drift.
    expect(nftTableDrift(input.config, input.flags, parseNftJson(got))).toEqual([]);
  });
});

describe("desiredNftAnalysis: the desired side of an nftables node", () => {
  const cases: { desc: string; input: string; want: [boolean | null, string | undefined] }[] = [
    {
      desc: "in the set: the set lookup returns it",
      input: "10.1.2.3",
      want: [false, "inet ip_masq_agent postrouting#2 ip daddr @nonmasq_v4 return"],
    },
    {
      desc: "outside: the final masquerade",
      input: "203.0.113.9",
      want: [true, "inet ip_masq_agent postrouting#3 masquerade fully-random"],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const a = desiredNftAnalysis(defaultConfig(), DEFAULT_FLAGS, "ipv4");
    expect(a.hooks.map((h) => h.ref)).toEqual(["inet ip_masq_agent postrouting"]);
    const v = evaluate(a.hooks[0]!.analysis, input);
    if ("error" in v) throw new Error(v.error);
    const d = v.decidedBy;
    expect([v.masqueraded, d && `${d.chain}#${d.index} ${d.text.split(" comment ")[0]}`]).toEqual(
      want,
    );
  });
});
