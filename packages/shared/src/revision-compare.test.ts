import { describe, expect, it } from "vitest";
import { defaultConfig, type MasqConfig } from "./config.js";
import { compareConfigs } from "./revision-compare.js";

const base = defaultConfig();
const cfg = (over: Partial<MasqConfig>): MasqConfig => ({ ...base, ...over });

const cases: {
  desc: string;
  input: { before: MasqConfig; after: MasqConfig };
  want: { changed: string[]; added: string[]; removed: string[] };
}[] = [
  {
    desc: "the same config: every key listed, none changed",
    input: { before: base, after: { ...base } },
    want: { changed: [], added: [], removed: [] },
  },
  {
    desc: "a CIDR added and the resync interval changed",
    input: {
      before: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], resyncInterval: "60s" }),
      after: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "198.51.100.0/24"], resyncInterval: "30s" }),
    },
    want: {
      changed: ["nonMasqueradeCIDRs", "resyncInterval"],
      added: ["198.51.100.0/24"],
      removed: [],
    },
  },
  {
    desc: "masqLinkLocal turned on, a CIDR removed",
    input: {
      before: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"] }),
      after: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqLinkLocal: true }),
    },
    want: {
      changed: ["nonMasqueradeCIDRs", "masqLinkLocal"],
      added: [],
      removed: ["172.16.0.0/12"],
    },
  },
];

describe("compareConfigs", () => {
  it.each(cases)("$desc", ({ input, want }) => {
    const r = compareConfigs(input.before, input.after);
    expect(r.keys.map((k) => k.key).sort()).toEqual(Object.keys(base).sort());
    expect(r.keys.filter((k) => k.changed).map((k) => k.key)).toEqual(want.changed);
    expect({ added: r.diff.added, removed: r.diff.removed }).toEqual({
      added: want.added,
      removed: want.removed,
    });
  });

  it("says old → new for a changed key", () => {
    const r = compareConfigs(base, cfg({ cidrLimit: 32 }));
    expect(r.keys.find((k) => k.key === "cidrLimit")).toEqual({
      key: "cidrLimit",
      from: base.cidrLimit,
      to: 32,
      changed: true,
    });
  });
});
