import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { impactOf } from "./impact.js";

const base = defaultConfig();
const with6 = { ...DEFAULT_FLAGS, enableIPv6: true };
const linux = { os: "linux" as const, flags: DEFAULT_FLAGS };

describe("impactOf", () => {
  it("names destinations that change treatment and counts nodes per family", () => {
    const after: MasqConfig = {
      ...base,
      nonMasqueradeCIDRs: [...base.nonMasqueradeCIDRs, "fd00::/8", "100.64.0.0/10"],
    };
    const i = impactOf(base, after, [linux, linux, { os: "linux", flags: with6 }]);
    expect(i.destinations).toEqual([
      { cidr: "100.64.0.0/10", change: "no-longer-masqueraded", nodes: 3 },
      { cidr: "fd00::/8", change: "no-longer-masqueraded", nodes: 1 },
    ]);
    expect(i.nodes).toBe(3);
  });

  it("does not report a removed CIDR still covered by a wider one, and counts only nodes whose rules change", () => {
    const after: MasqConfig = {
      ...base,
      nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12", "192.0.0.0/2"],
    };
    const i = impactOf(base, after, [linux, { os: "windows", flags: DEFAULT_FLAGS }]);
    expect(i.destinations.map((d) => d.cidr)).toEqual(["192.0.0.0/2"]);
    expect(i.nodes).toBe(2);
    expect(impactOf(base, { ...base, resyncInterval: "5m" }, [linux]).nodes).toBe(0);
  });
});

describe("impactOf with masqueradeCIDRs: ranges and the entry deciding them", () => {
  const before: MasqConfig = { ...base, nonMasqueradeCIDRs: ["10.0.0.0/8"] };
  const tests: {
    desc: string;
    input: { before: MasqConfig; after: MasqConfig };
    want: object[];
  }[] = [
    {
      desc: "adding the exception masquerades its range",
      input: { before, after: { ...before, masqueradeCIDRs: ["10.100.10.0/24"] } },
      want: [
        {
          cidr: "10.100.10.0/24",
          change: "now-masqueraded",
          nodes: 1,
          entry: "masqueradeCIDRs 10.100.10.0/24",
        },
      ],
    },
    {
      desc: "removing it keeps the range's pod address again, by the wider entry",
      input: { before: { ...before, masqueradeCIDRs: ["10.100.10.0/24"] }, after: before },
      want: [
        {
          cidr: "10.100.10.0/24",
          change: "no-longer-masqueraded",
          nodes: 1,
          entry: "nonMasqueradeCIDRs 10.0.0.0/8",
        },
      ],
    },
    {
      desc: "a RETURN inside the exception: three levels",
      input: {
        before: { ...before, masqueradeCIDRs: ["10.100.0.0/16"] },
        after: {
          ...before,
          nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"],
          masqueradeCIDRs: ["10.100.0.0/16"],
        },
      },
      want: [
        {
          cidr: "10.100.10.0/24",
          change: "no-longer-masqueraded",
          nodes: 1,
          entry: "nonMasqueradeCIDRs 10.100.10.0/24",
        },
      ],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(impactOf(input.before, input.after, [linux]).destinations).toEqual(want);
  });
});
