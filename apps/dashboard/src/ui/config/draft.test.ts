import {
  type ConfigResponse,
  configsEqual,
  DEFAULT_FLAGS,
  defaultConfig,
  diffConfigs,
  isEmptyDiff,
  type MasqConfig,
  type WavesStrategy,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { EditableConfig } from "../api/endpoints";
import {
  adoptCurrent,
  checkCandidate,
  compareSentence,
  impactSentence,
  issuesByValue,
  looksComplete,
  rebase,
  requestSizeIssue,
  rolledBackSentence,
  rolloutSentence,
  savedSentence,
  savedWhat,
  withList,
} from "./draft";

const base: MasqConfig = defaultConfig();

describe("diffConfigs", () => {
  it("lists added and removed CIDRs and changed keys", () => {
    const to = {
      ...base,
      nonMasqueradeCIDRs: ["10.0.0.0/8", "100.64.0.0/10"],
      masqLinkLocal: true,
    };
    const d = diffConfigs(base, to);
    expect(d.added).toEqual(["100.64.0.0/10"]);
    expect(d.removed).toEqual(["172.16.0.0/12", "192.168.0.0/16"]);
    expect(d.changed).toEqual(["masqLinkLocal"]);
    expect(d.scalars).toEqual([{ key: "masqLinkLocal", from: false, to: true }]);
  });
  it("reports equal blocks written differently as a text change, not an add/remove", () => {
    const a = { ...base, nonMasqueradeCIDRs: ["fd00::/8"] };
    const b = { ...base, nonMasqueradeCIDRs: ["fd00:0::/8"] };
    expect(isEmptyDiff(diffConfigs(a, b))).toBe(false); // text differs: order/text change only
    expect(diffConfigs(a, b).added).toEqual([]);
  });
  it("is empty for equal configs", () => {
    expect(isEmptyDiff(diffConfigs(base, { ...base }))).toBe(true);
    expect(configsEqual(base, { ...base, nonMasqueradeCIDRs: [...base.nonMasqueradeCIDRs] })).toBe(
      true,
    );
  });
});

describe("rebase", () => {
  it("re-applies my additions, removals and scalar edits on top of theirs", () => {
    const mine = {
      ...base,
      nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"],
      resyncInterval: "30s",
    };
    const theirs = {
      ...base,
      nonMasqueradeCIDRs: [...base.nonMasqueradeCIDRs, "198.51.100.0/24"],
      masqLinkLocal: true,
    };
    const r = rebase(base, mine, theirs);
    expect(r.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "198.51.100.0/24",
      "100.64.0.0/10",
    ]);
    expect(r.resyncInterval).toBe("30s");
    expect(r.masqLinkLocal).toBe(true);
  });
  it("does not add a CIDR twice when both added it", () => {
    const mine = { ...base, nonMasqueradeCIDRs: [...base.nonMasqueradeCIDRs, "100.64.0.0/10"] };
    const theirs = { ...mine };
    expect(rebase(base, mine, theirs).nonMasqueradeCIDRs).toEqual(mine.nonMasqueradeCIDRs);
  });
});

describe("checkCandidate", () => {
  it("refuses the CIDR past the most a config can carry to nodes (limits.ts)", () => {
    const full = {
      ...base,
      cidrLimit: 10_000,
      nonMasqueradeCIDRs: Array.from({ length: 4096 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`),
    };
    expect(
      checkCandidate(full, "100.64.0.0/10", DEFAULT_FLAGS).errors.map((e) => e.message),
    ).toEqual([
      "4097 CIDRs are more than the 4096 a config can carry to nodes; nodes would refuse it",
    ]);
  });
  it("explains a misaligned CIDR with the suggestion", () => {
    const r = checkCandidate(base, "10.0.0.1/8", DEFAULT_FLAGS);
    expect(r.errors[0]?.message).toBe("10.0.0.1/8 is not aligned; did you mean 10.0.0.0/8?");
    expect(r.errors[0]?.suggestion).toBe("10.0.0.0/8");
  });
  it("rejects garbage and IPv6 without IPv6", () => {
    expect(checkCandidate(base, "10.0.0.0", DEFAULT_FLAGS).errors).toHaveLength(1);
    expect(checkCandidate(base, "fd00::/8", DEFAULT_FLAGS).errors[0]?.code).toBe("ipv6-disabled");
    expect(checkCandidate(base, "fd00::/8", { ...DEFAULT_FLAGS, enableIPv6: true }).errors).toEqual(
      [],
    );
  });
  it("blocks duplicates and warns about overlaps", () => {
    expect(checkCandidate(base, "10.0.0.0/8", DEFAULT_FLAGS).errors[0]?.message).toMatch(
      /already in the list/,
    );
    const inside = checkCandidate(base, "10.1.0.0/16", DEFAULT_FLAGS);
    expect(inside.errors).toEqual([]);
    expect(inside.warnings[0]?.message).toBe("10.1.0.0/16 is inside 10.0.0.0/8 and has no effect");
  });
  it("accepts a valid new block", () => {
    expect(checkCandidate(base, "100.64.0.0/10", DEFAULT_FLAGS)).toEqual({
      errors: [],
      warnings: [],
    });
    expect(checkCandidate(base, "  ", DEFAULT_FLAGS)).toEqual({ errors: [], warnings: [] });
  });
  it("reports the cidrLimit", () => {
    const r = checkCandidate({ ...base, cidrLimit: 3 }, "100.64.0.0/10", DEFAULT_FLAGS);
    expect(r.errors[0]?.code).toBe("cidr-limit");
  });
});

describe("helpers", () => {
  it("looksComplete", () => {
    expect(looksComplete("10.0.0.0")).toBe(false);
    expect(looksComplete("10.0.0.0/8")).toBe(true);
  });
  it("issuesByValue groups issues by CIDR", () => {
    const m = issuesByValue([
      { code: "contained", message: "a", value: "10.1.0.0/16" },
      { code: "duplicate", message: "b", value: "10.1.0.0/16" },
      { code: "syntax", message: "c" },
    ]);
    expect(m.get("10.1.0.0/16")).toHaveLength(2);
    expect(m.size).toBe(1);
  });
  it("impact sentences", () => {
    expect(
      impactSentence({ cidr: "100.64.0.0/10", change: "no-longer-masqueraded", nodes: 12 }),
    ).toBe(
      "Traffic to 100.64.0.0/10 will no longer be masqueraded on 12 nodes: pods keep their own IP.",
    );
    expect(impactSentence({ cidr: "10.0.0.0/8", change: "now-masqueraded", nodes: 1 })).toMatch(
      /masqueraded on 1 node:/,
    );
  });
  // A comparison of two past revisions read "will be masqueraded": neither is to come.
  it.each([
    {
      desc: "no longer masqueraded in the second",
      input: { cidr: "100.64.0.0/10", change: "no-longer-masqueraded" as const, nodes: 12 },
      want: "Traffic to 100.64.0.0/10: masqueraded in the first, pods keep their own IP in the second, on 12 nodes.",
    },
    {
      desc: "masqueraded in the second, with the deciding entry",
      input: {
        cidr: "192.0.2.0/24",
        change: "now-masqueraded" as const,
        nodes: 1,
        entry: "the final MASQUERADE rule: no entry contains it",
      },
      want: "Traffic to 192.0.2.0/24: pods keep their own IP in the first, masqueraded in the second, on 1 node (decided by the final MASQUERADE rule: no entry contains it).",
    },
  ])("compare sentence: $desc", ({ input, want }) => {
    expect(compareSentence(input)).toBe(want);
  });
});

describe("adoptCurrent", () => {
  const mine: EditableConfig = {
    config: base,
    yaml: "",
    resourceVersion: "r7",
    revision: 7,
    valid: true,
    errors: [],
    warnings: [{ code: "duplicate", message: "10.0.0.0/8 is listed twice" }],
    flags: { ...DEFAULT_FLAGS, enableIPv6: true },
    author: "me",
    updatedAt: "2024-01-01T00:00:00Z",
    message: "",
    desiredRevision: 7,
    abortedRevision: null,
  };
  const theirs = {
    resourceVersion: "r8",
    revision: 8,
    yaml: "x",
    author: "them",
    updatedAt: "2024-01-02T00:00:00Z",
  };

  it("takes their revision, keeping our flags", () => {
    const cfg = { ...base, cidrLimit: 5 };
    expect(adoptCurrent(mine, { ...theirs, config: cfg })).toEqual({
      ...mine,
      ...theirs,
      config: cfg,
      valid: true,
      warnings: [],
    });
  });

  it("their text that does not parse: the defaults under our flags, marked invalid", () => {
    const r = adoptCurrent(mine, { ...theirs, config: null });
    expect(r.valid).toBe(false);
    expect(r.config).toEqual(defaultConfig(mine.flags));
  });
});

describe("requestSizeIssue", () => {
  const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const tests: {
    desc: string;
    input: { yaml: string } | { config: MasqConfig };
    want: string | null;
  }[] = [
    { desc: "a usual config", input: { config: base }, want: null },
    {
      desc: "4,000 CIDRs as a config object: more than a request may have",
      input: { config: { ...base, nonMasqueradeCIDRs: cidrs(4000) } },
      want: "this config makes a 65 KiB request; the dashboard accepts at most 64 KiB: remove CIDRs",
    },
    {
      desc: "the same as compact YAML fits",
      input: { yaml: `nonMasqueradeCIDRs: [${cidrs(3000).join(",")}]` },
      want: null,
    },
  ];
  for (const { desc, input, want } of tests) {
    it(desc, () => expect(requestSizeIssue(input)?.message ?? null).toBe(want));
  }
});

describe("the masqueradeCIDRs list in the editor", () => {
  const config: MasqConfig = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] };
  const tests: { desc: string; input: string; want: { errors: string[]; warnings: string[] } }[] = [
    {
      desc: "an exception inside a range",
      input: "10.100.10.0/24",
      want: { errors: [], warnings: [] },
    },
    {
      desc: "a block already in nonMasqueradeCIDRs is refused, named",
      input: "10.0.0.0/8",
      want: { errors: ["both-lists"], warnings: [] },
    },
    {
      desc: "outside every range: redundant",
      input: "192.0.2.0/24",
      want: { errors: [], warnings: ["exception-redundant"] },
    },
    {
      desc: "misaligned, as in the other list",
      input: "10.1.2.3/16",
      want: { errors: ["cidr-misaligned"], warnings: [] },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const r = checkCandidate(config, input, DEFAULT_FLAGS, "masqueradeCIDRs");
    expect({
      errors: r.errors.map((e) => e.code),
      warnings: r.warnings.map((w) => w.code),
    }).toEqual(want);
  });

  it("an emptied exception list leaves the key out, as upstream writes configs", () => {
    expect(
      withList({ ...config, masqueradeCIDRs: ["10.1.0.0/16"] }, "masqueradeCIDRs", []),
    ).toEqual(config);
  });

  it("rebase keeps my added exception on top of their change", () => {
    const mine = { ...config, masqueradeCIDRs: ["10.100.10.0/24"] };
    const theirs = { ...config, nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"] };
    expect(rebase(config, mine, theirs).masqueradeCIDRs).toEqual(["10.100.10.0/24"]);
  });
});

describe("rolloutSentence", () => {
  const tests: { desc: string; input: number; want: string }[] = [
    {
      desc: "no node's rules change: never claims that no node is connected",
      input: 0,
      want: "No known node's rules change; nodes that connect later get the config then.",
    },
    { desc: "one node", input: 1, want: "The change will be applied to 1 node." },
    { desc: "thousands", input: 2500, want: "The change will be applied to 2,500 nodes." },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(rolloutSentence(input)).toBe(want);
  });
});

const waves: WavesStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [50, 100],
  pause: { kind: "manual" },
};

describe("savedWhat: a save's revision, and the merge nodes get when it is numbered apart", () => {
  const merge = { sources: [{}, {}] } as unknown as ConfigResponse["merge"];
  const tests: { desc: string; input: Parameters<typeof savedWhat>; want: string }[] = [
    {
      desc: "merged with one other source",
      input: [
        { revision: 3, rollsOut: { kind: "all-at-once" } },
        { revision: 3, desiredRevision: 4, merge },
      ],
      want: "revision 3 (nodes get it merged with 1 other config source as revision 4)",
    },
    {
      desc: "the fresh read not of this save yet (Kubernetes: the watch comes later): no number",
      input: [
        { revision: 3, rollsOut: { kind: "all-at-once" } },
        { revision: 2, desiredRevision: 4, merge },
      ],
      want: "revision 3",
    },
    {
      desc: "not pushed: the toast says so on its own",
      input: [
        { revision: 3, rollsOut: null },
        { revision: 3, desiredRevision: 2, merge },
      ],
      want: "revision 3",
    },
    {
      desc: "one source",
      input: [
        { revision: 3, rollsOut: { kind: "all-at-once" } },
        { revision: 3, desiredRevision: 3, merge: null },
      ],
      want: "revision 3",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(savedWhat(...input)).toBe(want);
  });
});

describe("savedSentence: one wording for every save, by how it rolls out", () => {
  const tests: { desc: string; input: Parameters<typeof savedSentence>; want: string }[] = [
    {
      desc: "all at once: every node is sent the revision now",
      input: ["revision 3", { rollsOut: { kind: "all-at-once" } }],
      want: "Saved revision 3; nodes are applying it now",
    },
    {
      desc: "in waves: only the canary is sent it now, never 'nodes are applying it now'",
      input: ["revision 3", { rollsOut: waves }],
      want: "Saved revision 3; rolling out in waves: the canary applies it first, the other nodes keep their revision until their wave is released",
    },
    {
      desc: "a config source in waves says so too, not that every node applies it",
      input: ["ConfigMap ip-masq-app, key config", { rollsOut: waves }],
      want: "Saved ConfigMap ip-masq-app, key config; rolling out in waves: the canary applies it first, the other nodes keep their revision until their wave is released",
    },
    // A source saved while the merge was held (or another source conflicted) said "nodes are
    // applying it now", and no node changed.
    {
      desc: "not pushed (held after an abort): says so and why, never that nodes apply it",
      input: [
        "file ip-masq-team",
        { rollsOut: null, notPushed: "revision 4 was aborted: every node runs revision 3 …" },
      ],
      want: "Saved file ip-masq-team; no node gets it. Not pushed: revision 4 was aborted: every node runs revision 3 …",
    },
    {
      desc: "not pushed (the sources conflict)",
      input: [
        "revision 5",
        { rollsOut: null, notPushed: "the config sources conflict: resyncInterval differs" },
      ],
      want: "Saved revision 5; no node gets it. Not pushed: the config sources conflict: resyncInterval differs",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(savedSentence(...input)).toBe(want);
  });
});

describe("rolledBackSentence: the rollback's toast says how it rolls out, as a save's does", () => {
  const tests: { desc: string; input: Parameters<typeof rolledBackSentence>; want: string }[] = [
    {
      desc: "all at once",
      input: [5, 2, { rollsOut: { kind: "all-at-once" } }],
      want: "Rolled back: revision 5 has the config of revision 2; nodes are applying it now",
    },
    {
      desc: "in waves: never 'nodes are applying it now'",
      input: [5, 2, { rollsOut: waves }],
      want: "Rolled back: revision 5 has the config of revision 2; rolling out in waves: the canary applies it first, the other nodes keep their revision until their wave is released",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(rolledBackSentence(...input)).toBe(want);
  });
});
