import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AgentFlags,
  DEFAULT_FLAGS,
  decodeConfigValue,
  defaultConfig,
  type MasqConfig,
  parseConfigText,
  RESERVED_RANGES,
  serializeConfig,
  validateConfig,
} from "./config.js";

const V6: AgentFlags = { ...DEFAULT_FLAGS, enableIPv6: true };
const defaults = defaultConfig();
const cfg = (over: Partial<MasqConfig>): MasqConfig => ({ ...defaults, ...over });

// Upstream's syncConfigTests (cmd/ip-masq-agent/ip-masq-agent_test.go), carried over as data.
// Upstream runs them with --enable-ipv6 and compares the loaded config or the error.
const syncConfigTests: { desc: string; input: string; want: MasqConfig | { error: RegExp } }[] = [
  {
    desc: "valid yaml file, all keys",
    input:
      "\nnonMasqueradeCIDRs:\n  - 172.16.0.0/12\n  - 10.0.0.0/8\ncidrLimit: 64\nmasqLinkLocal: true\nresyncInterval: 5s\n",
    want: cfg({
      nonMasqueradeCIDRs: ["172.16.0.0/12", "10.0.0.0/8"],
      masqLinkLocal: true,
      resyncInterval: "5s",
    }),
  },
  {
    desc: "valid yaml file, just nonMasqueradeCIDRs",
    input: "\nnonMasqueradeCIDRs:\n  - 192.168.0.0/16\n",
    want: cfg({ nonMasqueradeCIDRs: ["192.168.0.0/16"] }),
  },
  {
    desc: "valid yaml file, just masqLinkLocal",
    input: "\nmasqLinkLocal: true\n",
    want: cfg({ masqLinkLocal: true }),
  },
  {
    desc: "valid yaml file, just masqLinkLocalIPv6",
    input: "\nmasqLinkLocalIPv6: true\n",
    want: cfg({ masqLinkLocalIPv6: true }),
  },
  {
    desc: "valid yaml file, just resyncInterval",
    input: "\nresyncInterval: 5m\n",
    want: cfg({ resyncInterval: "5m" }),
  },
  { desc: "invalid yaml file", input: "*", want: { error: /not valid YAML or JSON/ } },
  {
    desc: "valid json file, all keys",
    input:
      '\n{\n  "nonMasqueradeCIDRs": ["172.16.0.0/12", "10.0.0.0/8"],\n  "masqLinkLocal": true,\n  "resyncInterval": "5s"\n}\n',
    want: cfg({
      nonMasqueradeCIDRs: ["172.16.0.0/12", "10.0.0.0/8"],
      masqLinkLocal: true,
      resyncInterval: "5s",
    }),
  },
  {
    desc: "valid json file, just nonMasqueradeCIDRs",
    input: '\n{\n\t"nonMasqueradeCIDRs": ["192.168.0.0/16"]\n}\n',
    want: cfg({ nonMasqueradeCIDRs: ["192.168.0.0/16"] }),
  },
  {
    desc: "valid json file, just masqLinkLocal",
    input: '\n{\n\t"masqLinkLocal": true\n}\n',
    want: cfg({ masqLinkLocal: true }),
  },
  {
    desc: "valid json file, just resyncInterval",
    input: '\n{\n\t"resyncInterval": "5m"\n}\n',
    want: cfg({ resyncInterval: "5m" }),
  },
  { desc: "invalid json file", input: "{*", want: { error: /not valid YAML or JSON/ } },
  { desc: "no config file (empty)", input: "", want: defaults },
  {
    desc: "valid json file, all keys with ipv6 cidr",
    input:
      '{"nonMasqueradeCIDRs": ["172.16.0.0/12", "10.0.0.0/8", "fc00::/7"], "masqLinkLocal": true, "resyncInterval": "5s"}',
    want: cfg({
      nonMasqueradeCIDRs: ["172.16.0.0/12", "10.0.0.0/8", "fc00::/7"],
      masqLinkLocal: true,
      resyncInterval: "5s",
    }),
  },
  // Our additions: Go json semantics upstream relies on.
  { desc: "comment-only file means defaults", input: "# nothing here\n", want: defaults },
  {
    desc: "keys match case-insensitively like Go",
    input: "nonmasqueradecidrs: [10.0.0.0/8]\nCIDRLIMIT: 3\n",
    want: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], cidrLimit: 3 }),
  },
  {
    desc: "null list means no CIDRs",
    input: "nonMasqueradeCIDRs:\n",
    want: cfg({ nonMasqueradeCIDRs: [] }),
  },
  { desc: "null bool keeps default", input: "masqLinkLocal: null\n", want: defaults },
  {
    desc: "YAML 1.1 booleans (yes/on)",
    input: "masqLinkLocal: yes\n",
    want: cfg({ masqLinkLocal: true }),
  },
  {
    desc: "string bool is a type error",
    input: 'masqLinkLocal: "true"\n',
    want: { error: /masqLinkLocal must be a bool/ },
  },
  {
    desc: "numeric interval is a type error",
    input: "resyncInterval: 60\n",
    want: { error: /resyncInterval must be a duration/ },
  },
  { desc: "list at top level", input: "- 10.0.0.0/8\n", want: { error: /must be a mapping/ } },
  {
    desc: "non-string CIDR",
    input: "nonMasqueradeCIDRs: [10]\n",
    want: { error: /entries must be strings/ },
  },
  { desc: "float limit", input: "cidrLimit: 6.5\n", want: { error: /cidrLimit must be a int/ } },
  { desc: "unresolved alias", input: "*x", want: { error: /not valid YAML or JSON/ } },
  {
    desc: "alias bomb",
    input:
      "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
    want: { error: /not valid YAML or JSON/ },
  },
  {
    desc: "duplicate key",
    input: "masqLinkLocal: true\nmasqLinkLocal: false\n",
    want: { error: /not valid YAML or JSON/ },
  },
  {
    desc: "bad duration",
    input: "resyncInterval: 5 minutes\n",
    want: { error: /is not a duration/ },
  },
  {
    desc: "zero duration refused (upstream would spin)",
    input: "resyncInterval: 0s\n",
    want: { error: /longer than zero/ },
  },
  {
    desc: "compound Go duration",
    input: "resyncInterval: 1h2m3.5s\n",
    want: cfg({ resyncInterval: "1h2m3.5s" }),
  },
];

describe("parseConfigText: upstream syncConfigTests and Go json semantics", () => {
  for (const { desc, input, want } of syncConfigTests) {
    it(desc, () => {
      const r = parseConfigText(input, V6);
      if ("error" in want) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.errors.map((e) => e.message).join("\n")).toMatch(want.error);
      } else {
        expect(r.ok ? r.config : r.errors).toEqual(want);
      }
    });
  }
});

// Upstream's validateConfigTests, plus the IPv6 gate and the limit; errors carry upstream's text.
const validateTests: {
  desc: string;
  input: Partial<MasqConfig>;
  flags?: AgentFlags;
  want: string[];
}[] = [
  { desc: "empty CIDR list", input: { nonMasqueradeCIDRs: [] }, want: [] },
  { desc: "default config", input: {}, want: [] },
  {
    desc: "CIDR that doesn't match regex",
    input: { nonMasqueradeCIDRs: ["abcdefg"] },
    want: ['CIDR "abcdefg" could not be parsed, invalid CIDR address: abcdefg'],
  },
  {
    desc: "multiple CIDRs, one doesn't match regex",
    input: { nonMasqueradeCIDRs: ["10.0.0.0/8", "abcdefg"] },
    want: ['CIDR "abcdefg" could not be parsed, invalid CIDR address: abcdefg'],
  },
  {
    desc: "CIDR that matches regex but can't be parsed",
    input: { nonMasqueradeCIDRs: ["10.256.0.0/16"] },
    want: ['CIDR "10.256.0.0/16" could not be parsed, invalid CIDR address: 10.256.0.0/16'],
  },
  {
    desc: "misaligned CIDR",
    input: { nonMasqueradeCIDRs: ["10.0.0.1/8"] },
    want: [
      'CIDR "10.0.0.1/8" is not aligned to a CIDR block, ip: "10.0.0.1" network: "10.0.0.0/8"',
    ],
  },
  {
    desc: "ipv6 without --enable-ipv6",
    input: { nonMasqueradeCIDRs: ["fc00::/7"] },
    want: [
      "ipv6 is not enabled, but ipv6 cidr fc00::/7 provided. Enable ipv6 using --enable-ipv6 agent flag",
    ],
  },
  {
    desc: "ipv6 with --enable-ipv6",
    input: { nonMasqueradeCIDRs: ["fc00::/7"] },
    flags: V6,
    want: [],
  },
  {
    desc: "more CIDRs than cidrLimit",
    input: { nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"], cidrLimit: 1 },
    want: [
      "the daemon can only accept up to 1 CIDRs (excluding link-local), but got 2 CIDRs (excluding link local)",
    ],
  },
];

describe("validateConfig: upstream validateConfigTests", () => {
  for (const { desc, input, flags, want } of validateTests) {
    it(desc, () => {
      const r = validateConfig(cfg(input), flags ?? DEFAULT_FLAGS);
      expect(r.errors.map((e) => e.upstream)).toEqual(want);
    });
  }

  it("names the value and suggests the aligned block", () => {
    const r = validateConfig(cfg({ nonMasqueradeCIDRs: ["10.0.0.1/8"] }));
    expect(r.errors[0]).toMatchObject({
      code: "cidr-misaligned",
      value: "10.0.0.1/8",
      suggestion: "10.0.0.0/8",
      message: "10.0.0.1/8 is not aligned; did you mean 10.0.0.0/8?",
    });
  });

  it("reports every error, not only the first", () => {
    const r = validateConfig(
      cfg({ nonMasqueradeCIDRs: ["x", "10.0.0.1/8", "fc00::/7"], resyncInterval: "soon" }),
    );
    expect(r.errors.map((e) => e.code)).toEqual([
      "cidr-unparsable",
      "cidr-misaligned",
      "ipv6-disabled",
      "duration",
    ]);
  });
});

const warningTests: {
  desc: string;
  input: Partial<MasqConfig>;
  flags?: AgentFlags;
  want: string[];
}[] = [
  { desc: "none for defaults", input: {}, want: [] },
  {
    desc: "duplicate",
    input: { nonMasqueradeCIDRs: ["10.0.0.0/8", "10.0.0.0/8"] },
    want: ["duplicate"],
  },
  {
    desc: "contained in another",
    input: { nonMasqueradeCIDRs: ["10.0.0.0/8", "10.1.0.0/16"] },
    want: ["contained"],
  },
  { desc: "all traffic", input: { nonMasqueradeCIDRs: ["0.0.0.0/0"] }, want: ["all-traffic"] },
  {
    desc: "link-local overlap, already unmasqueraded",
    input: { nonMasqueradeCIDRs: ["169.254.169.254/32"] },
    want: ["link-local-overlap"],
  },
  {
    desc: "link-local overlap while masqLinkLocal",
    input: { nonMasqueradeCIDRs: ["169.254.0.0/16"], masqLinkLocal: true },
    want: ["link-local-overlap"],
  },
  {
    desc: "ipv6 link-local overlap",
    input: { nonMasqueradeCIDRs: ["fe80::/64"] },
    flags: V6,
    want: ["link-local-overlap"],
  },
];

describe("warnings", () => {
  for (const { desc, input, flags, want } of warningTests) {
    it(desc, () => {
      const r = validateConfig(cfg(input), flags ?? DEFAULT_FLAGS);
      expect(r.errors).toEqual([]);
      expect(r.warnings.map((w) => w.code)).toEqual(want);
    });
  }

  it("warns about unknown and mis-cased keys in ConfigMap text", () => {
    const r = parseConfigText("nonMasqueradeCidrs: [10.0.0.0/8]\nsnatTarget: 1.2.3.4\n");
    expect(r.ok && r.warnings.map((w) => w.code)).toEqual(["key-case", "unknown-key"]);
  });

  it("rejects unknown keys in API bodies (strict)", () => {
    const r = decodeConfigValue({ nonMasqueradeCIDRs: [], extra: 1 }, DEFAULT_FLAGS, {
      strictKeys: true,
    });
    expect(!r.ok && r.errors[0]?.code).toBe("unknown-key");
  });
});

describe("defaults and flags", () => {
  it("nomasq-all-reserved-ranges adds the RFC reserved ranges to the defaults", () => {
    const r = parseConfigText("", { ...DEFAULT_FLAGS, noMasqAllReservedRanges: true });
    expect(r.ok && r.config.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      ...RESERVED_RANGES,
    ]);
  });
  it("an explicit list overrides the reserved ranges", () => {
    const r = parseConfigText("nonMasqueradeCIDRs: [10.0.0.0/8]", {
      ...DEFAULT_FLAGS,
      noMasqAllReservedRanges: true,
    });
    expect(r.ok && r.config.nonMasqueradeCIDRs).toEqual(["10.0.0.0/8"]);
  });
  it("reports which keys were present", () => {
    const r = parseConfigText("masqLinkLocal: false\ncidrLimit: 10\n");
    expect(r.ok && r.keys).toEqual(["masqLinkLocal", "cidrLimit"]);
  });
});

describe("serializeConfig", () => {
  it("writes upstream's format", () => {
    expect(serializeConfig(cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "fc00::/7"] }))).toBe(
      "nonMasqueradeCIDRs:\n  - 10.0.0.0/8\n  - fc00::/7\nmasqLinkLocal: false\nmasqLinkLocalIPv6: false\ncidrLimit: 64\nresyncInterval: 60s\n",
    );
  });
  it("round-trips any valid config", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const cidr = fc
      .tuple(octet, fc.integer({ min: 8, max: 32 }))
      .map(([a, p]) => `${a}.0.0.0/${p}`)
      .filter((c) => validateConfig(cfg({ nonMasqueradeCIDRs: [c] })).errors.length === 0);
    fc.assert(
      fc.property(
        fc.array(cidr, { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("60s", "5m", "1h30m"),
        (cidrs, a, b, resync) => {
          const c = cfg({
            nonMasqueradeCIDRs: cidrs,
            masqLinkLocal: a,
            masqLinkLocalIPv6: b,
            resyncInterval: resync,
          });
          const back = parseConfigText(serializeConfig(c), V6);
          return back.ok && JSON.stringify(back.config) === JSON.stringify(c);
        },
      ),
    );
  });
  it("parseConfigText never throws", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        parseConfigText(s);
        return true;
      }),
    );
  });
});
