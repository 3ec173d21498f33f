import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AgentFlags,
  DEFAULT_FLAGS,
  defaultConfig,
  type MasqConfig,
  RESERVED_RANGES,
  serializeConfig,
  validateConfig,
} from "./config.js";
import { decodeConfigValue, parseConfigText } from "./config-decode.js";
import { MAX_RESOURCE_VERSION_CHARS } from "./limits.js";
import { decodeDashboardMessage, encodeMessage, PROTOCOL_VERSION } from "./protocol.js";

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
  { desc: "invalid json file", input: "{*", want: { error: /reads it as JSON: not valid JSON/ } },
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
    want: { error: /masqLinkLocal must be true or false/ },
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
  {
    desc: "float limit",
    input: "cidrLimit: 6.5\n",
    want: { error: /cidrLimit must be an integer/ },
  },
  { desc: "unresolved alias", input: "*x", want: { error: /unknown anchor 'x'/ } },
  {
    desc: "alias bomb",
    input:
      "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
    want: { error: /excessive aliasing/ },
  },
  {
    desc: "duplicate key: go-yaml keeps the last",
    input: "masqLinkLocal: true\nmasqLinkLocal: false\n",
    want: cfg({ masqLinkLocal: false }),
  },
  {
    desc: "bad duration",
    input: "resyncInterval: 5 minutes\n",
    want: { error: /is not a duration/ },
  },
  {
    desc: "zero duration accepted as upstream does (a warning says the reporter waits 1s)",
    input: "resyncInterval: 0s\n",
    want: cfg({ resyncInterval: "0s" }),
  },
  {
    desc: "duration past int64 nanoseconds refused as Go refuses it",
    input: "resyncInterval: 2562048h\n",
    want: { error: /not a duration/ },
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
  {
    desc: "prefix with a leading zero",
    input: { nonMasqueradeCIDRs: ["192.168.0.0/016"] },
    want: ["cidr-not-canonical"],
  },
  {
    desc: "IPv6 not in RFC 5952 form",
    input: { nonMasqueradeCIDRs: ["FD00:0:0:0:0:0:0:0/8"] },
    flags: V6,
    want: ["cidr-not-canonical"],
  },
  { desc: "one nanosecond", input: { resyncInterval: "1ns" }, want: ["resync-interval"] },
  { desc: "zero", input: { resyncInterval: "0s" }, want: ["resync-interval"] },
  { desc: "negative", input: { resyncInterval: "-5m" }, want: ["resync-interval"] },
  { desc: "one second is fine", input: { resyncInterval: "1s" }, want: [] },
  { desc: "a day is fine", input: { resyncInterval: "24h" }, want: [] },
  { desc: "600h", input: { resyncInterval: "600h" }, want: ["resync-interval"] },
];

describe("warnings", () => {
  for (const { desc, input, flags, want } of warningTests) {
    it(desc, () => {
      const r = validateConfig(cfg(input), flags ?? DEFAULT_FLAGS);
      expect(r.errors).toEqual([]);
      expect(r.warnings.map((w) => w.code)).toEqual(want);
    });
  }

  const messages: { desc: string; input: Partial<MasqConfig>; flags?: AgentFlags; want: string }[] =
    [
      {
        desc: "/016: iptables reads octal 16 = /14",
        input: { nonMasqueradeCIDRs: ["192.168.0.0/016"] },
        want: "192.168.0.0/016: iptables reads the prefix /016 as octal (/14), so ip-masq-agent (which writes the text as given) makes a rule for 192.168.0.0/14; this reporter writes 192.168.0.0/16. Write 192.168.0.0/16",
      },
      {
        desc: "/010 is /8: the block masks to another network",
        input: { nonMasqueradeCIDRs: ["10.64.0.0/010"] },
        want: "10.64.0.0/010: iptables reads the prefix /010 as octal (/8), so ip-masq-agent (which writes the text as given) makes a rule for 10.0.0.0/8; this reporter writes 10.64.0.0/10. Write 10.64.0.0/10",
      },
      {
        desc: "/08: iptables refuses it",
        input: { nonMasqueradeCIDRs: ["10.0.0.0/08"] },
        want: "10.0.0.0/08: iptables reads a prefix with a leading zero as octal and refuses /08, so ip-masq-agent (which writes the text as given) fails to apply the config; this reporter writes 10.0.0.0/8. Write 10.0.0.0/8",
      },
      {
        desc: "/00 means the same in octal",
        input: { nonMasqueradeCIDRs: ["0.0.0.0/00"] },
        want: "0.0.0.0/00 is not in canonical form (the prefix /00 has leading zeros); rules are written as 0.0.0.0/0",
      },
      {
        desc: "IPv6 leading zeros",
        input: { nonMasqueradeCIDRs: ["2001:0db8::/32"] },
        flags: V6,
        want: "2001:0db8::/32 is not in canonical form (leading zeros in a group); rules are written as 2001:db8::/32",
      },
      {
        desc: "600h",
        input: { resyncInterval: "600h" },
        want: 'resyncInterval "600h" is long: nodes re-apply the config only every 600h0m0s; drift is still reported at once, and healed by a resync or, with --heal immediate, at once',
      },
      {
        desc: "1ns",
        input: { resyncInterval: "1ns" },
        want: 'resyncInterval "1ns" is shorter than 1s: ip-masq-agent would re-apply every 1ns, almost without pause; this reporter re-applies every 1s',
      },
      {
        desc: "the widest holder is named",
        input: { nonMasqueradeCIDRs: ["10.1.1.0/24", "10.1.0.0/16", "10.0.0.0/8"] },
        want: "10.1.1.0/24 is inside 10.0.0.0/8 and has no effect",
      },
    ];
  for (const { desc, input, flags, want } of messages) {
    it(`says what it means: ${desc}`, () => {
      const r = validateConfig(cfg(input), flags ?? DEFAULT_FLAGS);
      expect(r.warnings.map((w) => w.message)).toContain(want);
    });
  }

  it("finds duplicates and nesting among thousands of CIDRs like the quadratic scan did", () => {
    const cidrs = Array.from({ length: 3000 }, (_, i) => {
      const a = (i * 7919) % 250;
      const b = (i * 104729) % 256;
      return i % 3 === 0 ? `${a}.0.0.0/8` : `${a}.${b}.0.0/16`;
    });
    const fast = validateConfig(cfg({ nonMasqueradeCIDRs: cidrs, cidrLimit: 5000 })).warnings;
    const key = (cidr: string) => {
      const [a, b, rest] = cidr.split(".");
      return { a, b, wide: rest !== undefined && cidr.endsWith("/8") };
    };
    const seen = new Set<string>();
    const want: string[] = [];
    const eights = new Set(cidrs.filter((c) => c.endsWith("/8")).map((c) => key(c).a));
    for (const c of cidrs) {
      if (seen.has(c)) want.push(`duplicate ${c}`);
      else if (!key(c).wide && eights.has(key(c).a)) want.push(`contained ${c}`);
      seen.add(c);
    }
    const overlaps = fast.filter((w) => w.code === "duplicate" || w.code === "contained");
    expect(overlaps.map((w) => `${w.code} ${w.value}`)).toEqual(want);
  });

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

describe("what nodes can be sent (limits.ts)", () => {
  /** n CIDRs; `long` pads each prefix with zeros to 64 characters (Go accepts it). */
  const many = (n: number, long = false) =>
    Array.from({ length: n }, (_, i) => {
      const addr = `10.${i >> 8}.${i & 255}.0`;
      return `${addr}/${long ? "0".repeat(64 - addr.length - 3) : ""}24`;
    });
  const tests: { desc: string; input: Partial<MasqConfig>; want: string[] }[] = [
    {
      desc: "4,096 CIDRs can be sent",
      input: { nonMasqueradeCIDRs: many(4096), cidrLimit: 10_000 },
      want: [],
    },
    {
      desc: "4,097 cannot",
      input: { nonMasqueradeCIDRs: many(4097), cidrLimit: 10_000 },
      want: [
        "4097 CIDRs are more than the 4096 a config can carry to nodes; nodes would refuse it",
      ],
    },
    {
      desc: "a CIDR longer than 64 characters (Go allows any number of leading zeros)",
      input: { nonMasqueradeCIDRs: [`10.0.0.0/${"0".repeat(60)}8`] },
      want: [
        "10.0.0.0/000000000000000… is 70 characters, more than the 64 nodes accept for one CIDR",
      ],
    },
    {
      desc: "4,096 padded CIDRs do not fit one message",
      input: { nonMasqueradeCIDRs: many(4096, true), cidrLimit: 10_000 },
      want: [
        "the config needs 275057 bytes as a message to nodes, more than the 262144 a message may have; remove CIDRs",
      ],
    },
  ];
  for (const { desc, input, want } of tests) {
    it(desc, () => {
      const r = validateConfig(cfg(input));
      expect(r.errors.filter((e) => e.code === "undeliverable").map((e) => e.message)).toEqual(
        want,
      );
    });
  }

  it("whatever it accepts, every reporter decodes as a desired message, at the very edge too", () => {
    // Long (zero-padded) CIDRs: the frame, not the count, is the limit here.
    const long = many(4096, true);
    const accepted = (k: number) =>
      validateConfig(cfg({ nonMasqueradeCIDRs: long.slice(0, k), cidrLimit: 10_000 })).errors
        .length === 0;
    let [lo, hi] = [0, 4096]; // the largest accepted count, by bisection
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (accepted(mid)) lo = mid;
      else hi = mid - 1;
    }
    const n = lo;
    const desired = (k: number) =>
      encodeMessage({
        type: "desired",
        v: PROTOCOL_VERSION,
        revision: Number.MAX_SAFE_INTEGER,
        resourceVersion: "r".repeat(MAX_RESOURCE_VERSION_CHARS),
        config: cfg({ nonMasqueradeCIDRs: long.slice(0, k), cidrLimit: 10_000 }),
      });
    expect(n).toBeLessThan(4096);
    expect(decodeDashboardMessage(desired(n)).ok).toBe(true);
    expect(
      validateConfig(cfg({ nonMasqueradeCIDRs: long.slice(0, n + 1), cidrLimit: 10_000 })).errors,
    ).not.toEqual([]);
  });

  it("no upstream text: upstream has no such limit", () => {
    const r = validateConfig(cfg({ nonMasqueradeCIDRs: many(4097), cidrLimit: 10_000 }));
    expect(r.errors[0]?.upstream).toBeUndefined();
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
    // In Go's order: json.Marshal sorts the keys of what go-yaml read.
    expect(r.ok && r.keys).toEqual(["cidrLimit", "masqLinkLocal"]);
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

describe("masqueradeCIDRs: validation as nonMasqueradeCIDRs, and the two lists together", () => {
  const tests: {
    desc: string;
    input: { config: Partial<MasqConfig>; flags?: AgentFlags };
    want: { errors: string[]; warnings: string[] };
  }[] = [
    {
      desc: "the example is valid",
      input: {
        config: { nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] },
      },
      want: { errors: [], warnings: [] },
    },
    {
      desc: "three levels: the inner range is not 'without effect'",
      input: {
        config: {
          nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"],
          masqueradeCIDRs: ["10.100.0.0/16"],
        },
      },
      want: { errors: [], warnings: [] },
    },
    {
      desc: "the same CIDR in both lists is an error naming it",
      input: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.0.0.0/8"] } },
      want: { errors: ["both-lists 10.0.0.0/8"], warnings: [] },
    },
    {
      desc: "an exception equal to a default range (defaults in force)",
      input: { config: { masqueradeCIDRs: ["172.16.0.0/12"] } },
      want: { errors: ["both-lists 172.16.0.0/12"], warnings: [] },
    },
    {
      desc: "an exception equal to link-local while it is not masqueraded",
      input: { config: { masqueradeCIDRs: ["169.254.0.0/16"] } },
      want: { errors: ["both-lists 169.254.0.0/16"], warnings: [] },
    },
    {
      desc: "same block written otherwise is still the same block",
      input: {
        config: { nonMasqueradeCIDRs: ["fd00::/8"], masqueradeCIDRs: ["FD00::/8"] },
        flags: V6,
      },
      want: { errors: ["both-lists FD00::/8"], warnings: ["cidr-not-canonical FD00::/8"] },
    },
    {
      desc: "an exception no non-masquerade range contains is redundant",
      input: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["192.0.2.0/24"] } },
      want: { errors: [], warnings: ["exception-redundant 192.0.2.0/24"] },
    },
    {
      desc: "an exception inside link-local is not redundant",
      input: { config: { nonMasqueradeCIDRs: [], masqueradeCIDRs: ["169.254.169.254/32"] } },
      want: { errors: [], warnings: [] },
    },
    {
      desc: "an exception inside link-local with masqLinkLocal is redundant",
      input: {
        config: {
          nonMasqueradeCIDRs: [],
          masqueradeCIDRs: ["169.254.169.254/32"],
          masqLinkLocal: true,
        },
      },
      want: { errors: [], warnings: ["exception-redundant 169.254.169.254/32"] },
    },
    {
      desc: "an exception inside another exception has no effect",
      input: {
        config: {
          nonMasqueradeCIDRs: ["10.0.0.0/8"],
          masqueradeCIDRs: ["10.100.0.0/16", "10.100.10.0/24"],
        },
      },
      want: { errors: [], warnings: ["contained 10.100.10.0/24"] },
    },
    {
      desc: "a duplicate exception",
      input: {
        config: {
          nonMasqueradeCIDRs: ["10.0.0.0/8"],
          masqueradeCIDRs: ["10.1.0.0/16", "10.1.0.0/16"],
        },
      },
      want: { errors: [], warnings: ["duplicate 10.1.0.0/16"] },
    },
    {
      desc: "CIDR checks: misaligned and unparsable",
      input: { config: { masqueradeCIDRs: ["10.1.2.3/16", "nope"] } },
      want: { errors: ["cidr-misaligned 10.1.2.3/16", "cidr-unparsable nope"], warnings: [] },
    },
    {
      desc: "CIDR checks: IPv6 without --enable-ipv6",
      input: { config: { masqueradeCIDRs: ["fd00:10::/32"] } },
      want: { errors: ["ipv6-disabled fd00:10::/32"], warnings: [] },
    },
    {
      desc: "IPv6 exceptions with --enable-ipv6",
      input: {
        config: { nonMasqueradeCIDRs: ["fd00::/8"], masqueradeCIDRs: ["fd00:10::/32"] },
        flags: V6,
      },
      want: { errors: [], warnings: [] },
    },
    {
      desc: "cidrLimit counts both lists",
      input: {
        config: {
          nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"],
          masqueradeCIDRs: ["10.1.0.0/16"],
          cidrLimit: 2,
        },
      },
      want: { errors: ["cidr-limit 3"], warnings: [] },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const r = validateConfig(cfg(input.config), input.flags ?? DEFAULT_FLAGS);
    expect(r.errors.map((e) => `${e.code} ${e.value}`)).toEqual(want.errors);
    expect(r.warnings.map((e) => `${e.code} ${e.value}`)).toEqual(want.warnings);
  });

  it("says which list and how to fix a block in both", () => {
    const r = validateConfig(cfg({ masqueradeCIDRs: ["169.254.0.0/16"] }));
    expect(r.errors[0]?.message).toBe(
      "169.254.0.0/16 is in masqueradeCIDRs and in link-local 169.254.0.0/16, which is not masqueraded (set masqLinkLocal: true to masquerade it): a destination must be decided by one list; remove it from one of them",
    );
  });

  it("cidrLimit names upstream's error only when upstream's own list exceeds it", () => {
    const r = validateConfig(
      cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.1.0.0/16"], cidrLimit: 1 }),
    );
    expect(r.errors[0]?.upstream).toBeUndefined();
  });
});

describe("masqueradeCIDRs: decoded with Go's rules", () => {
  const tests: { desc: string; input: string; want: string[] | undefined | RegExp }[] = [
    { desc: "absent", input: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", want: undefined },
    { desc: "null is none", input: "masqueradeCIDRs: null\n", want: undefined },
    { desc: "a list", input: "masqueradeCIDRs: [10.1.0.0/16]\n", want: ["10.1.0.0/16"] },
    {
      desc: "key matched case-insensitively",
      input: "MasqueradeCIDRs: [10.1.0.0/16]\n",
      want: ["10.1.0.0/16"],
    },
    { desc: "JSON", input: '{"masqueradeCIDRs": ["10.1.0.0/16"]}', want: ["10.1.0.0/16"] },
    {
      desc: "not a list",
      input: "masqueradeCIDRs: 10.1.0.0/16\n",
      want: /masqueradeCIDRs must be a list of CIDR strings/,
    },
    {
      desc: "a number item",
      input: "masqueradeCIDRs: [5]\n",
      want: /masqueradeCIDRs entries must be strings/,
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const r = parseConfigText(input);
    if (want instanceof RegExp) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors.map((e) => e.message).join("\n")).toMatch(want);
      return;
    }
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.masqueradeCIDRs).toEqual(want);
  });

  it("a null item of a new list keeps Go's zero value, an empty string", () => {
    const r = parseConfigText("masqueradeCIDRs: [10.1.0.0/16, null]\n");
    expect(r.ok).toBe(false);
    expect(r.warnings.map((w) => w.code)).toContain("null-item");
  });

  it("is written back only when used", () => {
    expect(serializeConfig(cfg({ masqueradeCIDRs: [] }))).not.toContain("masqueradeCIDRs");
    expect(serializeConfig(cfg({ masqueradeCIDRs: ["10.1.0.0/16"] }))).toContain(
      "masqueradeCIDRs:\n  - 10.1.0.0/16",
    );
  });
});
