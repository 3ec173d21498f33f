import { describe, expect, it } from "vitest";
import { parseIptables } from "../parser.js";
import { walkPath } from "./walk.js";

const chains = (lines: string[]) => parseIptables(lines.join("\n")).ruleset.tables.get("nat")!;

/** Every undecidable MARK doubles the paths (the packet starts unmarked): a bound cuts them, and says so. */
const MARKS = [
  "-P POSTROUTING ACCEPT",
  ...[1, 2, 4, 8, 16, 32].map(
    (m) => `-A POSTROUTING -o eth${m} -j MARK --set-xmark 0x${m.toString(16)}/0x${m.toString(16)}`,
  ),
  "-A POSTROUTING -m mark --mark 0x3f/0x3f -j MASQUERADE",
];

const walk = (
  lines: string[],
  limits: { maxBranches?: number; maxSteps?: number; maxDepth?: number },
) =>
  walkPath({
    chains: chains(lines),
    family: "ipv4",
    start: "POSTROUTING",
    startIsBase: true,
    agentChain: "IP-MASQ-AGENT",
    unread: new Set(),
    packet: { family: "ipv4", mark: 0 },
    limits,
  });

describe("walkPath bounds", () => {
  const cases: {
    desc: string;
    limits: { maxBranches?: number; maxSteps?: number };
    want: { outcomes: number; unknown: number; bound?: RegExp };
  }[] = [
    {
      desc: "no bound hit: 2^6 paths, one masquerades",
      limits: {},
      want: { outcomes: 64, unknown: 0 },
    },
    {
      desc: "branches",
      limits: { maxBranches: 8 },
      want: { outcomes: 64, unknown: 56, bound: /more than 8 paths/ },
    },
    {
      desc: "rule visits",
      limits: { maxSteps: 20 },
      want: { outcomes: 64, unknown: 63, bound: /more than 20 rule visits/ },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const r = walk(MARKS, c.limits);
      if (c.want.unknown === 0) expect(r.outcomes).toHaveLength(c.want.outcomes);
      else expect(r.outcomes.length).toBeLessThanOrEqual(c.want.outcomes);
      expect(r.outcomes.filter((o) => o.result === "unknown").length).toBeGreaterThanOrEqual(
        c.want.unknown > 0 ? 1 : 0,
      );
      if (c.want.unknown === 0) {
        expect(r.outcomes.filter((o) => o.result === "masquerade")).toHaveLength(1);
        expect(r.unknowns).toEqual([]);
      } else expect(r.unknowns.map((u) => u.message).join(";")).toMatch(c.want.bound!);
    });

  it("the one masqueraded path is the one where every MARK was set", () => {
    const r = walk(MARKS, {});
    const masq = r.outcomes.find((o) => o.result === "masquerade")!;
    expect(masq.conditions.map((c) => c.text)).toEqual([
      "-o eth1",
      "-o eth2",
      "-o eth4",
      "-o eth8",
      "-o eth16",
      "-o eth32",
    ]);
  });
});
