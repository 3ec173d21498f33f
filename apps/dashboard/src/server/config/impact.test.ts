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

describe("impactOf: nodes whose rules are not the old config's now", () => {
  const after: MasqConfig = {
    ...base,
    nonMasqueradeCIDRs: [...base.nonMasqueradeCIDRs, "100.64.0.0/10"],
  };
  const drifted = { ...linux, notAsConfigured: "drifted" };
  const offline = { ...linux, notAsConfigured: "offline" };
  const tests: {
    desc: string;
    input: { before: MasqConfig | null; nodes: (typeof linux & { notAsConfigured?: string })[] };
    want: { counted: number; nodes: number; notAsConfigured?: { nodes: number; why: string } };
  }[] = [
    {
      desc: "every node in sync: counted, nothing said apart",
      input: { before: base, nodes: [linux, linux] },
      want: { counted: 2, nodes: 2 },
    },
    {
      desc: "a drifted node: out of the destination counts, still one whose rules change",
      input: { before: base, nodes: [linux, linux, drifted] },
      want: { counted: 2, nodes: 3, notAsConfigured: { nodes: 1, why: "(1 drifted)" } },
    },
    {
      desc: "reasons counted, the most common first",
      input: { before: base, nodes: [offline, drifted, offline, linux] },
      want: { counted: 1, nodes: 4, notAsConfigured: { nodes: 3, why: "(2 offline, 1 drifted)" } },
    },
    {
      desc: "no node as configured: the destination is named on 0 nodes",
      input: { before: base, nodes: [drifted] },
      want: { counted: 0, nodes: 1, notAsConfigured: { nodes: 1, why: "(1 drifted)" } },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const i = impactOf(input.before, after, input.nodes);
    expect(i.destinations).toEqual([
      { cidr: "100.64.0.0/10", change: "no-longer-masqueraded", nodes: want.counted },
    ]);
    expect(i.nodes).toBe(want.nodes);
    expect(i.notAsConfigured?.nodes).toBe(want.notAsConfigured?.nodes);
    if (want.notAsConfigured) expect(i.notAsConfigured?.reason).toContain(want.notAsConfigured.why);
  });

  it("says nothing apart for a first config (nothing before) or when no destination moves", () => {
    expect(impactOf(null, after, [drifted]).notAsConfigured).toBeUndefined();
    expect(impactOf(base, { ...base, resyncInterval: "5m" }, [drifted])).toEqual({
      nodes: 0,
      destinations: [],
    });
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
    {
      desc: "a range no entry contains any more: the final MASQUERADE rule decides it",
      input: {
        before: {
          ...before,
          nonMasqueradeCIDRs: ["10.0.0.0/8", "192.0.2.0/24"],
          masqueradeCIDRs: ["10.100.0.0/16"],
        },
        after: { ...before, masqueradeCIDRs: ["10.100.0.0/16"] },
      },
      want: [
        {
          cidr: "192.0.2.0/24",
          change: "now-masqueraded",
          nodes: 1,
          entry: "the final MASQUERADE rule: no entry contains it",
        },
      ],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(impactOf(input.before, input.after, [linux]).destinations).toEqual(want);
  });
});
