import { describe, expect, it } from "vitest";
import { defaultConfig, type MasqConfig } from "./config.js";
import { parseConfigText } from "./config-decode.js";
import { configKey, configsEqual, diffConfigs, diffSetKeys, isEmptyDiff } from "./config-diff.js";

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

// A config source's own change (History's "Changes of the other config sources"): a parse fills
// in the default nonMasqueradeCIDRs for a text without the key, which that source never lists.
describe("diffSetKeys: only what the texts set", () => {
  const set = (text: string | null) => {
    if (text === null) return null;
    const r = parseConfigText(text);
    if (!r.ok) throw new Error(text);
    return r;
  };
  const CONFLICT = "resyncInterval: 30s\nmasqueradeCIDRs: [172.16.5.0/24]\n";
  const tests: {
    desc: string;
    input: [string | null, string | null];
    want: Partial<ReturnType<typeof diffConfigs>>;
  }[] = [
    {
      desc: "added, without nonMasqueradeCIDRs: its exception and the scalar it sets, none of the default CIDRs",
      input: [null, CONFLICT],
      want: {
        added: [],
        removed: [],
        exceptionsAdded: ["172.16.5.0/24"],
        changed: ["resyncInterval"],
        scalars: [{ key: "resyncInterval", from: "60s", to: "30s" }],
      },
    },
    {
      desc: "removed, without nonMasqueradeCIDRs: its exception and the scalar it set",
      input: [CONFLICT, null],
      want: {
        added: [],
        removed: [],
        exceptionsRemoved: ["172.16.5.0/24"],
        changed: ["resyncInterval"],
        scalars: [{ key: "resyncInterval", from: "30s", to: "60s" }],
      },
    },
    {
      desc: "added, setting only a scalar: that scalar (it read 'No changes')",
      input: [null, "masqLinkLocal: true\n"],
      want: {
        added: [],
        removed: [],
        changed: ["masqLinkLocal"],
        scalars: [{ key: "masqLinkLocal", from: false, to: true }],
      },
    },
    {
      desc: "the list set for the first time: its CIDRs added, no default removed",
      input: ["resyncInterval: 60s\n", "nonMasqueradeCIDRs: [198.51.100.0/24]\n"],
      want: { added: ["198.51.100.0/24"], removed: [], changed: [] },
    },
    {
      desc: "the list left out again: its CIDRs removed, no default added",
      input: ["nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n", "masqLinkLocal: true\n"],
      want: {
        added: [],
        removed: ["10.0.0.0/8", "198.51.100.0/24"],
        changed: ["masqLinkLocal"],
        scalars: [{ key: "masqLinkLocal", from: false, to: true }],
      },
    },
    {
      desc: "both set the list: as diffConfigs",
      input: [
        "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
        "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24]\n",
      ],
      want: { added: ["192.0.2.0/24"], removed: [], changed: [] },
    },
    {
      desc: "a scalar changed, neither sets a list: nothing else",
      input: ["resyncInterval: 60s\n", "resyncInterval: 30s\n"],
      want: {
        added: [],
        removed: [],
        changed: ["resyncInterval"],
        scalars: [{ key: "resyncInterval", from: "60s", to: "30s" }],
      },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const d = diffSetKeys(set(input[0]), set(input[1]));
    expect(d).toMatchObject(want);
    if (!want.exceptionsAdded) expect(d.exceptionsAdded).toBeUndefined();
    if (!want.exceptionsRemoved) expect(d.exceptionsRemoved).toBeUndefined();
  });
});
