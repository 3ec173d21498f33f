import { describe, expect, it } from "vitest";
import { defaultConfig, type MasqConfig } from "./config.js";
import { configKey, configsEqual, diffConfigs, isEmptyDiff } from "./config-diff.js";

const base = defaultConfig();
const cfg = (over: Partial<MasqConfig>): MasqConfig => ({ ...base, ...over });

const cases: {
  desc: string;
  before: MasqConfig | null;
  after: MasqConfig | null;
  want: Partial<ReturnType<typeof diffConfigs>>;
}[] = [
  {
    desc: "equal configs",
    before: base,
    after: { ...base },
    want: { added: [], removed: [], changed: [], scalars: [] },
  },
  {
    desc: "added and removed CIDRs and a changed key",
    before: base,
    after: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "100.64.0.0/10"], resyncInterval: "30s" }),
    want: {
      added: ["100.64.0.0/10"],
      removed: ["172.16.0.0/12", "192.168.0.0/16"],
      changed: ["resyncInterval"],
      scalars: [{ key: "resyncInterval", from: "60s", to: "30s" }],
    },
  },
  {
    desc: "the same block spelled differently is a reorder/respelling, not add/remove",
    before: cfg({ nonMasqueradeCIDRs: ["fd00::/8"] }),
    after: cfg({ nonMasqueradeCIDRs: ["fd00:0::/8"] }),
    want: { added: [], removed: [], changed: ["nonMasqueradeCIDRs (order)"] },
  },
  {
    desc: "reordered",
    before: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"] }),
    after: cfg({ nonMasqueradeCIDRs: ["172.16.0.0/12", "10.0.0.0/8"] }),
    want: { changed: ["nonMasqueradeCIDRs (order)"] },
  },
  {
    desc: "duplicates count once",
    before: cfg({ nonMasqueradeCIDRs: [] }),
    after: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "10.0.0.0/8"] }),
    want: { added: ["10.0.0.0/8"] },
  },
  {
    desc: "nothing before: everything is added",
    before: null,
    after: base,
    want: { added: [...base.nonMasqueradeCIDRs], changed: [] },
  },
  {
    desc: "unparsable text still compares",
    before: cfg({ nonMasqueradeCIDRs: ["x"] }),
    after: cfg({ nonMasqueradeCIDRs: [" x "] }),
    want: { added: [], removed: [] },
  },
];

describe("diffConfigs", () => {
  for (const c of cases)
    it(c.desc, () => expect(diffConfigs(c.before, c.after)).toMatchObject(c.want));
  it("isEmptyDiff", () => {
    expect(isEmptyDiff(diffConfigs(base, { ...base }))).toBe(true);
    expect(isEmptyDiff(diffConfigs(base, cfg({ masqLinkLocal: true })))).toBe(false);
  });
});

describe("diffConfigs: masqueradeCIDRs", () => {
  const base = defaultConfig();
  const tests: { desc: string; input: [MasqConfig, MasqConfig]; want: [string[], string[]] }[] = [
    { desc: "none on either side", input: [base, base], want: [[], []] },
    {
      desc: "added",
      input: [base, { ...base, masqueradeCIDRs: ["10.1.0.0/16"] }],
      want: [["10.1.0.0/16"], []],
    },
    {
      desc: "removed, compared by block",
      input: [
        { ...base, masqueradeCIDRs: ["10.1.0.0/16", "10.2.0.0/16"] },
        { ...base, masqueradeCIDRs: ["10.2.0.0/16"] },
      ],
      want: [[], ["10.1.0.0/16"]],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const d = diffConfigs(...input);
    expect([d.exceptionsAdded ?? [], d.exceptionsRemoved ?? []]).toEqual(want);
    expect(isEmptyDiff(d)).toBe(want[0].length + want[1].length === 0);
  });
});

// configKey names a config where a revision number cannot (merges are numbered per process):
// the same key exactly when configsEqual says the same config.
describe("configKey", () => {
  const base = defaultConfig();
  const others: [string, MasqConfig][] = [
    ["a CIDR dropped", { ...base, nonMasqueradeCIDRs: base.nonMasqueradeCIDRs.slice(1) }],
    ["the list reordered", { ...base, nonMasqueradeCIDRs: [...base.nonMasqueradeCIDRs].reverse() }],
    ["an exception added", { ...base, masqueradeCIDRs: ["10.1.0.0/16"] }],
    ["a scalar changed", { ...base, masqLinkLocal: !base.masqLinkLocal }],
  ];
  for (const [desc, other] of others)
    it(`${desc}: another key`, () => {
      expect(configsEqual(base, other)).toBe(false);
      expect(configKey(other)).not.toBe(configKey(base));
    });
  it("the same config (a copy, no exceptions written as none): the same key", () => {
    const copy = { ...structuredClone(base), masqueradeCIDRs: [] };
    expect(configsEqual(base, copy)).toBe(true);
    expect(configKey(copy)).toBe(configKey(base));
  });
});
