import { describe, expect, it } from "vitest";
import { type Family, formatIp, parseIp } from "./cidr.js";
import { defaultConfig, type MasqConfig } from "./config.js";
import { decide, decidedRanges, decisionEntries, nearestHolders } from "./masquerade-decision.js";

const cfg = (over: Partial<MasqConfig>): MasqConfig => ({ ...defaultConfig(), ...over });
const ip = (text: string) => {
  const p = parseIp(text);
  if (!p) throw new Error(`bad test address ${text}`);
  return p;
};
/** "masquerade by masqueradeCIDRs 10.100.0.0/16", "keep by link-local 169.254.0.0/16", "masquerade (final)". */
const verdict = (config: MasqConfig, dst: string) => {
  const d = decide(config, ip(dst));
  const what = d.masquerade ? "masquerade" : "keep";
  return d.entry ? `${what} by ${d.entry.list} ${d.entry.cidr.canonical}` : `${what} (final)`;
};

const NESTED = cfg({
  nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"],
  masqueradeCIDRs: ["10.100.0.0/16"],
});

const decideTests: { desc: string; input: { config: MasqConfig; dst: string }; want: string }[] = [
  {
    desc: "the example: inside the exception",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] }),
      dst: "10.100.10.2",
    },
    want: "masquerade by masqueradeCIDRs 10.100.10.0/24",
  },
  {
    desc: "the example: beside the exception",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] }),
      dst: "10.100.11.2",
    },
    want: "keep by nonMasqueradeCIDRs 10.0.0.0/8",
  },
  {
    desc: "outside every entry: the final MASQUERADE",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] }),
      dst: "192.0.2.1",
    },
    want: "masquerade (final)",
  },
  {
    desc: "three levels: outer",
    input: { config: NESTED, dst: "10.1.2.3" },
    want: "keep by nonMasqueradeCIDRs 10.0.0.0/8",
  },
  {
    desc: "three levels: middle",
    input: { config: NESTED, dst: "10.100.9.255" },
    want: "masquerade by masqueradeCIDRs 10.100.0.0/16",
  },
  {
    desc: "three levels: inner",
    input: { config: NESTED, dst: "10.100.10.7" },
    want: "keep by nonMasqueradeCIDRs 10.100.10.0/24",
  },
  {
    desc: "three levels: first address after the inner block",
    input: { config: NESTED, dst: "10.100.11.0" },
    want: "masquerade by masqueradeCIDRs 10.100.0.0/16",
  },
  {
    desc: "equal prefixes: two sibling /24s, one of each list",
    input: {
      config: cfg({
        nonMasqueradeCIDRs: ["10.0.0.0/8", "10.20.1.0/24"],
        masqueradeCIDRs: ["10.20.2.0/24"],
      }),
      dst: "10.20.1.9",
    },
    want: "keep by nonMasqueradeCIDRs 10.20.1.0/24",
  },
  {
    desc: "equal prefixes: the masquerade sibling",
    input: {
      config: cfg({
        nonMasqueradeCIDRs: ["10.0.0.0/8", "10.20.1.0/24"],
        masqueradeCIDRs: ["10.20.2.0/24"],
      }),
      dst: "10.20.2.9",
    },
    want: "masquerade by masqueradeCIDRs 10.20.2.0/24",
  },
  {
    desc: "a host exception (/32)",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["192.168.0.0/16"], masqueradeCIDRs: ["192.168.7.7/32"] }),
      dst: "192.168.7.7",
    },
    want: "masquerade by masqueradeCIDRs 192.168.7.7/32",
  },
  {
    desc: "IPv6: exception inside a ULA range",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["fd00::/8"], masqueradeCIDRs: ["fd00:10::/32"] }),
      dst: "fd00:10::1",
    },
    want: "masquerade by masqueradeCIDRs fd00:10::/32",
  },
  {
    desc: "IPv6: beside the exception",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["fd00::/8"], masqueradeCIDRs: ["fd00:10::/32"] }),
      dst: "fd00:11::1",
    },
    want: "keep by nonMasqueradeCIDRs fd00::/8",
  },
  {
    desc: "IPv6 entries never decide an IPv4 address",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["fd00::/8"], masqueradeCIDRs: ["fd00:10::/32"] }),
      dst: "10.0.0.1",
    },
    want: "masquerade (final)",
  },
  {
    desc: "link-local takes part: an exception for the metadata address",
    input: { config: cfg({ masqueradeCIDRs: ["169.254.169.254/32"] }), dst: "169.254.169.254" },
    want: "masquerade by masqueradeCIDRs 169.254.169.254/32",
  },
  {
    desc: "link-local takes part: the rest of 169.254.0.0/16 keeps its address",
    input: { config: cfg({ masqueradeCIDRs: ["169.254.169.254/32"] }), dst: "169.254.1.1" },
    want: "keep by link-local 169.254.0.0/16",
  },
  {
    desc: "link-local with masqLinkLocal: not an entry",
    input: {
      config: cfg({ masqLinkLocal: true, masqueradeCIDRs: ["169.254.169.254/32"] }),
      dst: "169.254.1.1",
    },
    want: "masquerade (final)",
  },
  {
    desc: "IPv6 link-local takes part unless masqLinkLocalIPv6",
    input: { config: cfg({ masqueradeCIDRs: ["fe80::1/128"] }), dst: "fe80::2" },
    want: "keep by link-local fe80::/10",
  },
  {
    desc: "without exceptions: upstream's answer",
    input: { config: cfg({}), dst: "172.16.5.5" },
    want: "keep by nonMasqueradeCIDRs 172.16.0.0/12",
  },
];

describe("decide: the most specific entry of either list", () => {
  it.each(decideTests)("$desc", ({ input, want }) => {
    expect(verdict(input.config, input.dst)).toBe(want);
  });
});

const fmt = (family: Family, rs: ReturnType<typeof decidedRanges>) =>
  rs.map(
    (r) =>
      `${formatIp(family, r.range.first)}-${formatIp(family, r.range.last)} ${r.masquerade ? "masq" : "keep"}${r.entry ? ` ${r.entry.cidr.canonical}` : ""}`,
  );

const rangeTests: {
  desc: string;
  input: { config: MasqConfig; family: Family };
  want: string[];
}[] = [
  {
    desc: "three levels, link-local masqueraded",
    input: { config: { ...NESTED, masqLinkLocal: true }, family: "ipv4" },
    want: [
      "0.0.0.0-9.255.255.255 masq",
      "10.0.0.0-10.99.255.255 keep 10.0.0.0/8",
      "10.100.0.0-10.100.9.255 masq 10.100.0.0/16",
      "10.100.10.0-10.100.10.255 keep 10.100.10.0/24",
      "10.100.11.0-10.100.255.255 masq 10.100.0.0/16",
      "10.101.0.0-10.255.255.255 keep 10.0.0.0/8",
      "11.0.0.0-255.255.255.255 masq",
    ],
  },
  {
    desc: "an exception at the start of its range and the whole family",
    input: {
      config: cfg({
        nonMasqueradeCIDRs: ["0.0.0.0/0"],
        masqueradeCIDRs: ["0.0.0.0/8"],
        masqLinkLocal: true,
      }),
      family: "ipv4",
    },
    want: ["0.0.0.0-0.255.255.255 masq 0.0.0.0/8", "1.0.0.0-255.255.255.255 keep 0.0.0.0/0"],
  },
  {
    desc: "IPv6 with link-local",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["fd00::/8"], masqueradeCIDRs: ["fd00:10::/32"] }),
      family: "ipv6",
    },
    want: [
      "::-fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff masq",
      "fd00::-fd00:f:ffff:ffff:ffff:ffff:ffff:ffff keep fd00::/8",
      "fd00:10::-fd00:10:ffff:ffff:ffff:ffff:ffff:ffff masq fd00:10::/32",
      "fd00:11::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff keep fd00::/8",
      "fe00::-fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff masq",
      "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff keep fe80::/10",
      "fec0::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff masq",
    ],
  },
];

describe("decidedRanges: the family as disjoint ranges with their deciding entry", () => {
  it.each(rangeTests)("$desc", ({ input, want }) => {
    const entries = decisionEntries(input.config, input.family);
    expect(fmt(input.family, decidedRanges(entries, input.family))).toEqual(want);
  });

  it("agrees with decide at every range's ends", () => {
    const entries = decisionEntries(NESTED, "ipv4");
    for (const r of decidedRanges(entries, "ipv4"))
      for (const a of [r.range.first, r.range.last]) {
        const d = decide(NESTED, { family: "ipv4", value: a, text: formatIp("ipv4", a) });
        expect(d.entry?.cidr.canonical).toBe(r.entry?.cidr.canonical);
      }
  });
});

describe("nearestHolders", () => {
  it("names the most specific entry around each block, of either list", () => {
    const held = nearestHolders(decisionEntries(NESTED, "ipv4"));
    expect(held.get("10.100.10.0/24")?.cidr.canonical).toBe("10.100.0.0/16");
    expect(held.get("10.100.0.0/16")?.cidr.canonical).toBe("10.0.0.0/8");
    expect(held.has("10.0.0.0/8")).toBe(false);
  });
});
