import { describe, expect, it } from "vitest";
import { type AgentFlags, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { decodeConfigValue, parseConfigText } from "./config-decode.js";

const defaults = defaultConfig();
const RESERVED: AgentFlags = { ...DEFAULT_FLAGS, noMasqAllReservedRanges: true };

type Want =
  /** The config upstream ends up with (keys not given keep their defaults). */
  | { config: Partial<MasqConfig>; warnings?: string[] }
  /** Refused; the text upstream logs for it (or our own message when upstream has none). */
  | { upstream: string }
  | { error: RegExp };

function check(input: string, want: Want, flags: AgentFlags = DEFAULT_FLAGS) {
  const r = parseConfigText(input, flags);
  if ("config" in want) {
    expect(r.ok ? r.config : r.errors).toEqual({ ...defaultConfig(flags), ...want.config });
    if (want.warnings) expect(r.warnings.map((w) => w.code)).toEqual(want.warnings);
  } else if ("upstream" in want) {
    expect(r.ok ? "accepted" : r.errors.map((e) => e.upstream)).toContain(want.upstream);
  } else {
    expect(r.ok ? "accepted" : r.errors.map((e) => e.message).join("\n")).toMatch(want.error);
  }
}

// encoding/json's array() decodes into the slice NewMasqConfig filled with the defaults: it
// reuses the existing elements, so a null item (YAML `-` with nothing after it) keeps the
// element already there, and items past it start as "".
const nullItemTests: { desc: string; input: string; flags?: AgentFlags; want: Want }[] = [
  {
    desc: "an empty item (generated AKS configs) keeps the default in its place",
    input: "nonMasqueradeCIDRs:\n  -\n",
    want: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] }, warnings: ["null-item"] },
  },
  {
    desc: "[null]",
    input: "nonMasqueradeCIDRs: [null]\n",
    want: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] } },
  },
  {
    desc: "[null, x]: the first default stays, x replaces the second",
    input: "nonMasqueradeCIDRs: [~, 100.64.0.0/10]\n",
    want: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8", "100.64.0.0/10"] } },
  },
  {
    desc: "[x, null]: the second default stays",
    input: "nonMasqueradeCIDRs:\n  - 100.64.0.0/10\n  -\n",
    want: { config: { nonMasqueradeCIDRs: ["100.64.0.0/10", "172.16.0.0/12"] } },
  },
  {
    desc: "as many nulls as defaults: the defaults",
    input: "nonMasqueradeCIDRs: [null, null, null]\n",
    want: { config: { nonMasqueradeCIDRs: [...defaults.nonMasqueradeCIDRs] } },
  },
  {
    desc: "a null past the defaults is an empty string, which upstream refuses",
    input: "nonMasqueradeCIDRs: [null, null, null, null]\n",
    want: { upstream: 'CIDR "" could not be parsed, invalid CIDR address: ' },
  },
  {
    desc: "with --nomasq-all-reserved-ranges the defaults are longer",
    input: "nonMasqueradeCIDRs: [null, null, null, null]\n",
    flags: RESERVED,
    want: {
      config: {
        nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
      },
    },
  },
  {
    desc: "a shorter list truncates, a second one (JSON duplicate) reuses what the first wrote",
    input:
      '{"nonMasqueradeCIDRs": ["100.64.0.0/10", "198.18.0.0/15", "203.0.113.0/24", "192.0.2.0/24"], "nonMasqueradeCIDRs": [null, null]}',
    want: { config: { nonMasqueradeCIDRs: ["100.64.0.0/10", "198.18.0.0/15"] } },
  },
  {
    desc: "elements past a truncation stay in the backing array and come back",
    input: '{"nonMasqueradeCIDRs": ["100.64.0.0/10"], "nonMasqueradeCIDRs": [null, null]}',
    want: { config: { nonMasqueradeCIDRs: ["100.64.0.0/10", "172.16.0.0/12"] } },
  },
  {
    desc: "an empty list makes a new slice: nothing to keep after it",
    input: '{"nonMasqueradeCIDRs": [], "nonMasqueradeCIDRs": [null]}',
    want: { upstream: 'CIDR "" could not be parsed, invalid CIDR address: ' },
  },
  {
    desc: "null for the whole list empties it",
    input: "nonMasqueradeCIDRs:\n",
    want: { config: { nonMasqueradeCIDRs: [] }, warnings: [] },
  },
];

describe("null list items as Go's decoder treats them", () => {
  for (const { desc, input, flags, want } of nullItemTests)
    it(desc, () => check(input, want, flags));

  it("the warning says what the config becomes", () => {
    const r = parseConfigText("nonMasqueradeCIDRs:\n  -\n  - 100.64.0.0/10\n");
    expect(r.warnings).toContainEqual({
      code: "null-item",
      message:
        "nonMasqueradeCIDRs item 1 is empty (null): Go's JSON decoder keeps what the list already held there (10.0.0.0/8), so ip-masq-agent uses [10.0.0.0/8, 100.64.0.0/10]",
      value: "null",
    });
  });
});

// k8s.io/apimachinery ToJSON passes text starting with "{" through as JSON; everything else is
// YAML as go-yaml v2 reads it, then json.Marshal (sorted keys).
const textTests: { desc: string; input: string; want: Want }[] = [
  {
    desc: "a YAML flow mapping is read as JSON, and refused",
    input: "{nonMasqueradeCIDRs: [10.0.0.0/8]}\n",
    want: { error: /starts with "\{", so ip-masq-agent reads it as JSON/ },
  },
  {
    desc: "JSON after spaces and newlines",
    input: '  \n{"nonMasqueradeCIDRs": ["10.0.0.0/8"]}',
    want: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] } },
  },
  {
    desc: "JSON duplicate keys: each applied in turn",
    input: '{"masqLinkLocal": true, "masqLinkLocal": false}',
    want: { config: { masqLinkLocal: false }, warnings: ["duplicate-key"] },
  },
  {
    desc: "JSON keys differing in case: document order decides",
    input: '{"nonmasqueradecidrs": ["10.0.0.0/8"], "nonMasqueradeCIDRs": ["172.16.0.0/12"]}',
    want: { config: { nonMasqueradeCIDRs: ["172.16.0.0/12"] } },
  },
  {
    desc: "YAML keys differing in case: Go's sorted order decides (upper case first)",
    input: "nonmasqueradecidrs: [10.0.0.0/8]\nnonMasqueradeCIDRs: [172.16.0.0/12]\n",
    want: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] } },
  },
  {
    desc: "YAML duplicate key: the last one",
    input: "cidrLimit: 3\ncidrLimit: 10\n",
    want: { config: { cidrLimit: 10 }, warnings: ["duplicate-key"] },
  },
  {
    desc: "keys fold like Go's bytes.EqualFold (ſ is s)",
    input: "nonMaſqueradeCIDRs: [10.0.0.0/8]\n",
    want: { config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] }, warnings: ["key-case"] },
  },
  {
    desc: "only the first YAML document",
    input: "masqLinkLocal: true\n---\nmasqLinkLocal: false\n",
    want: { config: { masqLinkLocal: true } },
  },
  {
    desc: "merge keys",
    input: "base: &b {masqLinkLocal: true, cidrLimit: 10}\n<<: *b\ncidrLimit: 20\n",
    want: { config: { masqLinkLocal: true, cidrLimit: 20 }, warnings: ["unknown-key"] },
  },
  {
    desc: "an alias is the latest anchor of its name before it",
    input: "x: &n 10\ncidrLimit: *n\ny: &n 20\n",
    want: { config: { cidrLimit: 10 } },
  },
  {
    desc: "a redefined anchor serves the aliases after it",
    input: "x: &n 10\ny: &n 20\ncidrLimit: *n\n",
    want: { config: { cidrLimit: 20 } },
  },
  { desc: "octal 0o", input: "cidrLimit: 0o100\n", want: { config: { cidrLimit: 64 } } },
  { desc: "hex", input: "cidrLimit: 0x40\n", want: { config: { cidrLimit: 64 } } },
  { desc: "underscores", input: "cidrLimit: 1_0_0\n", want: { config: { cidrLimit: 100 } } },
  { desc: "exponent", input: "cidrLimit: 1e2\n", want: { config: { cidrLimit: 100 } } },
  { desc: "08 is the float 8", input: "cidrLimit: 08\n", want: { config: { cidrLimit: 8 } } },
  {
    desc: "a float with no fraction",
    input: "cidrLimit: 64.0\n",
    want: { config: { cidrLimit: 64 } },
  },
  {
    desc: "JSON keeps the number as written",
    input: '{"cidrLimit": 64.0}',
    want: {
      upstream:
        "json: cannot unmarshal number 64.0 into Go struct field MasqConfig.cidrLimit of type int",
    },
  },
  {
    desc: "no sexagesimal numbers: 1:05 is a string",
    input: "cidrLimit: 1:05\n",
    want: {
      upstream:
        "json: cannot unmarshal string into Go struct field MasqConfig.cidrLimit of type int",
    },
  },
  {
    desc: "past int64",
    input: "cidrLimit: 9223372036854775808\n",
    want: {
      upstream:
        "json: cannot unmarshal number 9223372036854775808 into Go struct field MasqConfig.cidrLimit of type int",
    },
  },
  { desc: "y is true", input: "masqLinkLocal: y\n", want: { config: { masqLinkLocal: true } } },
  { desc: "On is true", input: "masqLinkLocal: On\n", want: { config: { masqLinkLocal: true } } },
  {
    desc: "a quoted bool is a string",
    input: 'masqLinkLocal: "yes"\n',
    want: {
      upstream:
        "json: cannot unmarshal string into Go struct field MasqConfig.masqLinkLocal of type bool",
    },
  },
  {
    desc: "a number for a bool",
    input: "masqLinkLocal: 1\n",
    want: {
      upstream:
        "json: cannot unmarshal number into Go struct field MasqConfig.masqLinkLocal of type bool",
    },
  },
  {
    desc: "a number for the interval (metav1.Duration decodes a string)",
    input: "resyncInterval: 60\n",
    want: {
      upstream:
        "json: cannot unmarshal number into Go struct field MasqConfig.resyncInterval of type string",
    },
  },
  {
    desc: "a null interval is the empty duration",
    input: "resyncInterval:\n",
    want: { upstream: 'time: invalid duration ""' },
  },
  {
    desc: "1:30 is a string and not a duration",
    input: "resyncInterval: 1:30\n",
    want: { upstream: 'time: unknown unit ":" in duration "1:30"' },
  },
  {
    desc: "a bad interval given first is refused although a later one is good",
    input: '{"resyncInterval": "soon", "resyncInterval": "5s"}',
    want: { upstream: 'time: invalid duration "soon"' },
  },
  {
    desc: "NaN anywhere cannot become JSON",
    input: "unrelated: .nan\n",
    want: { upstream: "json: unsupported value: NaN" },
  },
  {
    desc: "a string for the list",
    input: "nonMasqueradeCIDRs: 10.0.0.0/8\n",
    want: {
      upstream:
        "json: cannot unmarshal string into Go struct field MasqConfig.nonMasqueradeCIDRs of type []string",
    },
  },
  {
    desc: "a list inside the list",
    input: "nonMasqueradeCIDRs: [10.0.0.0/8, [1]]\n",
    want: {
      upstream:
        "json: cannot unmarshal array into Go struct field MasqConfig.nonMasqueradeCIDRs of type string",
    },
  },
  {
    desc: "a pair inside a flow list is a mapping",
    input: "nonMasqueradeCIDRs: [10.0.0.0/8, a: 1]\n",
    want: {
      upstream:
        "json: cannot unmarshal object into Go struct field MasqConfig.nonMasqueradeCIDRs of type string",
    },
  },
  {
    desc: "a number at the top",
    input: "5\n",
    want: { upstream: "json: cannot unmarshal number into Go value of type main.MasqConfig" },
  },
  {
    desc: "a list at the top",
    input: "- 10.0.0.0/8\n",
    want: { upstream: "json: cannot unmarshal array into Go value of type main.MasqConfig" },
  },
  {
    desc: "a date-like entry stays the text written (go-yaml keeps timestamps as strings)",
    input: "nonMasqueradeCIDRs: [2001-12-14]\n",
    want: { upstream: 'CIDR "2001-12-14" could not be parsed, invalid CIDR address: 2001-12-14' },
  },
  {
    desc: "an IPv4-mapped block is no upstream error (upstream fails later, in iptables-restore)",
    input: "nonMasqueradeCIDRs: ['::ffff:10.0.0.0/104']\n",
    want: { error: /files it under IPv4, where iptables cannot read it.*\(10\.0\.0\.0\/8\)/ },
  },
];

describe("ConfigMap text read as upstream reads it", () => {
  for (const { desc, input, want } of textTests) it(desc, () => check(input, want));

  it("quotes no upstream text for an IPv4-mapped block", () => {
    const r = parseConfigText("nonMasqueradeCIDRs: ['::ffff:10.0.0.0/104']\n");
    expect(!r.ok && r.errors[0]?.code).toBe("cidr-ipv4-mapped");
    expect(!r.ok && r.errors[0]?.upstream).toBeUndefined();
  });
});

describe("decodeConfigValue (API config objects)", () => {
  it("applies the same Go rules to a JavaScript value", () => {
    const r = decodeConfigValue({ nonMasqueradeCIDRs: [null, "100.64.0.0/10"] });
    expect(r.ok && r.config.nonMasqueradeCIDRs).toEqual(["10.0.0.0/8", "100.64.0.0/10"]);
  });
});

describe("a mis-cased key says who matches it", () => {
  const cases: { desc: string; input: string; want: string }[] = [
    {
      desc: "an upstream key: upstream matches it too",
      input: "nonmasqueradecidrs: [10.0.0.0/8]\n",
      want: 'key "nonmasqueradecidrs" is read as "nonMasqueradeCIDRs" (ip-masq-agent matches keys case-insensitively); write "nonMasqueradeCIDRs"',
    },
    {
      desc: "masqueradeCIDRs: upstream does not read the key at all",
      input: "nonMasqueradeCIDRs: [10.0.0.0/8]\nmasqueradecidrs: [10.1.0.0/16]\n",
      want: 'key "masqueradecidrs" is read as "masqueradeCIDRs" (keys match case-insensitively here as upstream\'s do; upstream ip-masq-agent ignores masqueradeCIDRs in any case); write "masqueradeCIDRs"',
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const r = parseConfigText(input);
    expect(r.warnings.find((w) => w.code === "key-case")?.message).toBe(want);
  });
});
