import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { parseConfigText } from "./config-decode.js";
import {
  type MergeConflict,
  mergeParsed,
  mergeSources,
  type ParsedSource,
} from "./config-merge.js";
import type { ConfigSource, SourceText } from "./config-source.js";
import { MAX_CONFIG_SOURCE_BYTES, MAX_CONFIG_SOURCES } from "./limits.js";

const cm = (name: string, key = "config"): ConfigSource => ({ kind: "configmap", name, key });
const src = (name: string, text: string, key = "config"): SourceText => ({
  source: cm(name, key),
  text,
});
const AGENT = "ip-masq-agent";
const v6 = { ...DEFAULT_FLAGS, enableIPv6: true };

/** The conflicts as `kind: subject` strings, enough to tell them apart. */
function conflictKeys(cs: readonly MergeConflict[]): string[] {
  return cs.map((c) => {
    if (c.kind === "invalid-source") return `invalid-source: ${c.source.name}/${c.source.key}`;
    if (c.kind === "scalar") return `scalar: ${c.key}`;
    if (c.kind === "masquerade") return `masquerade: ${c.cidr}`;
    if (c.kind === "cidr-limit") return `cidr-limit: ${c.count}>${c.limit}`;
    return c.kind;
  });
}

describe("mergeSources", () => {
  const cases: {
    desc: string;
    input: SourceText[];
    flags?: typeof DEFAULT_FLAGS;
    want: { config?: Partial<MasqConfig>; conflicts: string[] };
  }[] = [
    {
      desc: "no source: upstream's defaults",
      input: [],
      want: { config: defaultConfig(), conflicts: [] },
    },
    {
      desc: "two sources: the lists are a union in source order, booleans OR'd (as ip-masq-agent-v2)",
      input: [
        src(
          "ip-masq-team-b",
          "nonMasqueradeCIDRs: [10.20.0.0/16, 100.64.0.0/10]\nmasqLinkLocal: true",
        ),
        src(AGENT, "nonMasqueradeCIDRs: [100.64.0.0/10, 192.168.0.0/16]"),
      ],
      want: {
        config: {
          nonMasqueradeCIDRs: ["100.64.0.0/10", "192.168.0.0/16", "10.20.0.0/16"],
          masqLinkLocal: true,
          masqLinkLocalIPv6: false,
        },
        conflicts: [],
      },
    },
    {
      desc: "a key no source sets keeps its default; one that only one source sets is that source's",
      input: [src(AGENT, "masqLinkLocal: false"), src("ip-masq-x", "resyncInterval: 30s")],
      want: {
        config: { nonMasqueradeCIDRs: defaultConfig().nonMasqueradeCIDRs, resyncInterval: "30s" },
        conflicts: [],
      },
    },
    {
      desc: "the same block spelled twice is one entry (first spelling)",
      input: [
        src(AGENT, "nonMasqueradeCIDRs: [fd00::/8]"),
        src("ip-masq-x", "nonMasqueradeCIDRs: ['fd00:0::/8']"),
      ],
      flags: v6,
      want: { config: { nonMasqueradeCIDRs: ["fd00::/8"] }, conflicts: [] },
    },
    {
      desc: "different resyncIntervals conflict; equal durations spelled differently do not",
      input: [
        src(AGENT, "resyncInterval: 60s"),
        src("ip-masq-a", "resyncInterval: 1m"),
        src("ip-masq-b", "resyncInterval: 30s"),
      ],
      want: { conflicts: ["scalar: resyncInterval"] },
    },
    {
      desc: "different cidrLimits conflict",
      input: [src(AGENT, "cidrLimit: 64"), src("ip-masq-a", "cidrLimit: 10")],
      want: { conflicts: ["scalar: cidrLimit"] },
    },
    {
      desc: "a union over cidrLimit conflicts although each source is within it",
      input: [
        src(AGENT, "cidrLimit: 3\nnonMasqueradeCIDRs: [10.1.0.0/16, 10.2.0.0/16]"),
        src("ip-masq-a", "nonMasqueradeCIDRs: [10.3.0.0/16, 10.4.0.0/16]"),
      ],
      want: { conflicts: ["cidr-limit: 4>3"] },
    },
    {
      desc: "an invalid source is named; the merge of the others is still shown",
      input: [
        src(AGENT, "nonMasqueradeCIDRs: [10.0.0.0/8]"),
        src("ip-masq-a", "nonMasqueradeCIDRs: [10.0.0.1/8]"),
      ],
      want: {
        config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] },
        conflicts: ["invalid-source: ip-masq-a/config"],
      },
    },
    {
      desc: "IPv6 in a source without --enable-ipv6 makes that source invalid",
      input: [src(AGENT, "{}"), src("ip-masq-a", "nonMasqueradeCIDRs: [fd00::/8]")],
      want: { conflicts: ["invalid-source: ip-masq-a/config"] },
    },
    {
      desc: "link-local masqueraded by one source and listed as not masqueraded by another",
      input: [
        src(AGENT, "masqLinkLocal: true"),
        src("ip-masq-a", "nonMasqueradeCIDRs: [169.254.0.0/16]"),
      ],
      want: { conflicts: ["masquerade: 169.254.0.0/16"] },
    },
    {
      desc: "one source saying both about link-local is that source's warning, not a conflict",
      input: [src(AGENT, "masqLinkLocal: true\nnonMasqueradeCIDRs: [169.254.0.0/16]")],
      want: { conflicts: [] },
    },
    {
      desc: "the same ConfigMap's other keys are sources too (v2 reads every key)",
      input: [
        src(AGENT, "nonMasqueradeCIDRs: [10.0.0.0/8]"),
        src(AGENT, "nonMasqueradeCIDRs: [10.0.0.1/8]", "extra"),
      ],
      want: { conflicts: ["invalid-source: ip-masq-agent/extra"] },
    },
    {
      desc: "a source given twice is refused",
      input: [src(AGENT, "{}"), src(AGENT, "{}")],
      want: { conflicts: ["invalid-source: ip-masq-agent/config"] },
    },
    {
      desc: "a source over the byte limit is refused unread",
      input: [src(AGENT, `# ${"x".repeat(MAX_CONFIG_SOURCE_BYTES)}\n{}`)],
      want: { conflicts: ["invalid-source: ip-masq-agent/config"] },
    },
  ];
  it.each(cases)("$desc", ({ input, flags, want }) => {
    const r = mergeSources(input, flags);
    expect(conflictKeys(r.conflicts)).toEqual(want.conflicts);
    expect(r.ok).toBe(want.conflicts.length === 0);
    if (want.config) expect(r.config).toMatchObject(want.config);
  });

  it("one source merges to exactly its own parse (duplicates and order kept)", () => {
    const text =
      "nonMasqueradeCIDRs: [10.0.0.0/8, 192.168.0.0/16, 10.0.0.0/8]\nresyncInterval: 5s\n";
    const r = mergeSources([src(AGENT, text)]);
    const own = parseConfigText(text);
    expect(own.ok && r.config).toEqual(own.ok && own.config);
    expect(r.ok).toBe(true);
  });

  it("every CIDR names every source and key listing it; scalars name who decides", () => {
    const r = mergeSources([
      src(AGENT, "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 30s"),
      src("ip-masq-app", "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12]\nmasqLinkLocal: true"),
    ]);
    expect(r.cidrs.nonMasqueradeCIDRs).toEqual([
      { cidr: "10.0.0.0/8", canonical: "10.0.0.0/8", sources: [cm(AGENT), cm("ip-masq-app")] },
      { cidr: "172.16.0.0/12", canonical: "172.16.0.0/12", sources: [cm("ip-masq-app")] },
    ]);
    expect(r.scalars).toEqual([
      { key: "masqLinkLocal", value: true, sources: [cm("ip-masq-app")] },
      { key: "masqLinkLocalIPv6", value: false, sources: [] },
      { key: "cidrLimit", value: 64, sources: [] },
      { key: "resyncInterval", value: "30s", sources: [cm(AGENT)] },
    ]);
  });

  it("a CIDR inside another source's is a warning of the merge", () => {
    const r = mergeSources([
      src(AGENT, "nonMasqueradeCIDRs: [10.0.0.0/8]"),
      src("ip-masq-a", "nonMasqueradeCIDRs: [10.1.0.0/16]"),
    ]);
    expect(r.warnings.map((w) => [w.source, w.issue.code])).toEqual([[undefined, "contained"]]);
  });

  it("a source's 'has no effect' warning is dropped when another source's range makes it effective", () => {
    const r = mergeSources([
      src(AGENT, "nonMasqueradeCIDRs: [10.0.0.0/8]"),
      src("ip-masq-a", "nonMasqueradeCIDRs: [192.168.0.0/16]\nmasqueradeCIDRs: [10.100.10.0/24]"),
    ]);
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.issue.code)).not.toContain("exception-redundant");
    // Alone, or with no range around it in any source, it still has no effect: said once.
    const alone = mergeSources([
      src(AGENT, "nonMasqueradeCIDRs: [172.16.0.0/12]"),
      src("ip-masq-a", "nonMasqueradeCIDRs: [192.168.0.0/16]\nmasqueradeCIDRs: [10.100.10.0/24]"),
    ]);
    expect(alone.warnings.map((w) => [w.source?.name, w.issue.code])).toEqual([
      ["ip-masq-a", "exception-redundant"],
    ]);
  });

  it("more sources than MAX_CONFIG_SOURCES are refused as a whole", () => {
    const many = Array.from({ length: MAX_CONFIG_SOURCES + 1 }, (_, i) =>
      src(`ip-masq-${i}`, "{}"),
    );
    const r = mergeSources(many);
    expect(conflictKeys(r.conflicts)).toEqual(["too-many-sources"]);
    expect(r.config).toEqual(defaultConfig());
  });
});

/** Sources as decoded, with the list key `masqueradeCIDRs` (issue 14 part 1) declared here. */
const parsedSource = (
  name: string,
  over: Partial<MasqConfig> & { masqueradeCIDRs?: string[] },
): ParsedSource => ({
  source: cm(name),
  config: { ...defaultConfig(), ...over },
  keys: Object.keys(over),
});

describe("mergeParsed: masqueraded by one source and not by another", () => {
  const cases: {
    desc: string;
    input: ParsedSource[];
    want: { conflicts: string[]; masqueradeCIDRs?: string[] };
  }[] = [
    {
      desc: "the same block in one source's nonMasqueradeCIDRs and another's masqueradeCIDRs",
      input: [
        parsedSource(AGENT, { nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"] }),
        parsedSource("ip-masq-app", { masqueradeCIDRs: ["10.100.10.0/24"] }),
      ],
      want: { conflicts: ["masquerade: 10.100.10.0/24"] },
    },
    {
      desc: "a nested exception from another source is longest-prefix, not a conflict",
      input: [
        parsedSource(AGENT, { nonMasqueradeCIDRs: ["10.0.0.0/8"] }),
        parsedSource("ip-masq-app", { masqueradeCIDRs: ["10.100.10.0/24"] }),
      ],
      want: { conflicts: [], masqueradeCIDRs: ["10.100.10.0/24"] },
    },
    {
      desc: "exceptions are a union with provenance like the other list",
      input: [
        parsedSource("ip-masq-a", { masqueradeCIDRs: ["10.100.10.0/24"] }),
        parsedSource("ip-masq-b", { masqueradeCIDRs: ["10.100.10.0/24", "10.100.11.0/24"] }),
      ],
      want: { conflicts: [], masqueradeCIDRs: ["10.100.10.0/24", "10.100.11.0/24"] },
    },
    {
      desc: "an exception listed as IPv6 in a different spelling still conflicts",
      input: [
        parsedSource("ip-masq-a", { nonMasqueradeCIDRs: ["fd00::/8"] }),
        parsedSource("ip-masq-b", { masqueradeCIDRs: ["fd00:0::/8"] }),
      ],
      want: { conflicts: ["masquerade: fd00::/8"] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const r = mergeParsed(input, v6);
    expect(conflictKeys(r.conflicts)).toEqual(want.conflicts);
    if (want.masqueradeCIDRs)
      expect((r.config as { masqueradeCIDRs?: string[] }).masqueradeCIDRs).toEqual(
        want.masqueradeCIDRs,
      );
  });

  it("the conflict names both sides", () => {
    const r = mergeParsed([
      parsedSource(AGENT, { nonMasqueradeCIDRs: ["10.100.10.0/24"] }),
      parsedSource("ip-masq-app", { masqueradeCIDRs: ["10.100.10.0/24"] }),
    ]);
    expect(r.conflicts[0]?.message).toBe(
      "10.100.10.0/24 is masqueraded by ConfigMap ip-masq-app key config and not masqueraded by ConfigMap ip-masq-agent key config; decide in one source",
    );
  });
});
