import { describe, expect, it } from "vitest";
import type { Family } from "./cidr.js";
import {
  type AgentFlags,
  DEFAULT_FLAGS,
  defaultConfig,
  type MasqConfig,
  RESERVED_RANGES,
} from "./config.js";
import { parseIptables } from "./parser.js";
import { desiredChain, jumpRuleLine, renderApplyPayload, renderRestorePayload } from "./rules.js";

const empty: MasqConfig = {
  nonMasqueradeCIDRs: [],
  masqLinkLocal: false,
  masqLinkLocalIPv6: false,
  cidrLimit: 64,
  resyncInterval: "60s",
};
const NON_MASQ = '-m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE"';
const MASQ =
  '-m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)"';
const ret = (cidr: string, chain = "IP-MASQ-AGENT") =>
  `-A ${chain} ${NON_MASQ} -d ${cidr} -j RETURN`;
const masq = (rf: boolean, chain = "IP-MASQ-AGENT") =>
  `-A ${chain} ${MASQ} -j MASQUERADE${rf ? " --random-fully" : ""}`;
const payload = (lines: string[], chain = "IP-MASQ-AGENT") =>
  ["*nat", `:${chain} - [0:0]`, ...lines, "COMMIT", ""].join("\n");

// Upstream's TestSyncMasqRules / TestSyncMasqRulesIPv6 cases (the iptables-restore payload part),
// run for --random-fully default/false/true as upstream's TestMain does.
const cases: {
  desc: string;
  cfg: MasqConfig;
  family: Family;
  want: (rf: boolean) => string[];
}[] = [
  {
    desc: "empty config",
    cfg: empty,
    family: "ipv4",
    want: (rf) => [ret("169.254.0.0/16"), masq(rf)],
  },
  {
    desc: "default config masquerading reserved ranges",
    cfg: defaultConfig(),
    family: "ipv4",
    want: (rf) => [
      ret("169.254.0.0/16"),
      ret("10.0.0.0/8"),
      ret("172.16.0.0/12"),
      ret("192.168.0.0/16"),
      masq(rf),
    ],
  },
  {
    desc: "default config not masquerading reserved ranges",
    cfg: defaultConfig({ noMasqAllReservedRanges: true }),
    family: "ipv4",
    want: (rf) => [
      ret("169.254.0.0/16"),
      ret("10.0.0.0/8"),
      ret("172.16.0.0/12"),
      ret("192.168.0.0/16"),
      ...RESERVED_RANGES.map((c) => ret(c)),
      masq(rf),
    ],
  },
  {
    desc: "config has ipv4 and ipv6 non masquerade cidr",
    cfg: { ...empty, nonMasqueradeCIDRs: ["10.244.0.0/16", "fc00::/7"] },
    family: "ipv4",
    want: (rf) => [ret("169.254.0.0/16"), ret("10.244.0.0/16"), masq(rf)],
  },
  {
    desc: "masqLinkLocal: true",
    cfg: { ...empty, masqLinkLocal: true, nonMasqueradeCIDRs: ["10.0.0.0/8"] },
    family: "ipv4",
    want: (rf) => [ret("10.0.0.0/8"), masq(rf)],
  },
  {
    desc: "ipv6 empty config",
    cfg: empty,
    family: "ipv6",
    want: (rf) => [ret("fe80::/10"), masq(rf)],
  },
  {
    desc: "ipv6 config has ipv4 and ipv6 non masquerade cidr",
    cfg: { ...empty, nonMasqueradeCIDRs: ["10.244.0.0/16", "fc00::/7"] },
    family: "ipv6",
    want: (rf) => [ret("fe80::/10"), ret("fc00::/7"), masq(rf)],
  },
  {
    desc: "ipv6 config has masqLinkLocalIPv6: true",
    cfg: { ...empty, masqLinkLocalIPv6: true },
    family: "ipv6",
    want: (rf) => [masq(rf)],
  },
  // Ours, not upstream's: upstream writes the text as given, and iptables then reads `/016` as
  // octal (/14) and refuses `/08`; the config validation warns about both (config.test.ts).
  {
    desc: "IPv6 is written in RFC 5952 form",
    cfg: { ...empty, nonMasqueradeCIDRs: ["FC00:0::/7"] },
    family: "ipv6",
    want: (rf) => [ret("fe80::/10"), ret("fc00::/7"), masq(rf)],
  },
  {
    desc: "a prefix with leading zeros is written as its decimal value",
    cfg: { ...empty, nonMasqueradeCIDRs: ["192.168.0.0/016", "10.0.0.0/08"] },
    family: "ipv4",
    want: (rf) => [ret("169.254.0.0/16"), ret("192.168.0.0/16"), ret("10.0.0.0/8"), masq(rf)],
  },
];

describe("renderRestorePayload matches upstream byte for byte", () => {
  for (const rf of [true, false]) {
    for (const c of cases) {
      it(`${c.desc} (random-fully=${rf})`, () => {
        const flags: AgentFlags = { ...DEFAULT_FLAGS, randomFully: rf, enableIPv6: true };
        expect(renderRestorePayload(c.cfg, flags, c.family)).toBe(payload(c.want(rf)));
      });
    }
  }

  it("honours --masq-chain", () => {
    const flags = { ...DEFAULT_FLAGS, masqChain: "MY-CHAIN" };
    expect(renderRestorePayload(empty, flags, "ipv4")).toBe(
      payload([ret("169.254.0.0/16", "MY-CHAIN"), masq(true, "MY-CHAIN")], "MY-CHAIN"),
    );
  });
});

// Upstream's TestWriteMasqRules (the MASQUERADE rules for --to-ports), carried over as data.
describe("--to-ports (upstream TestWriteMasqRules)", () => {
  const rule = (rf: boolean, tail = "") =>
    `-A IP-MASQ-AGENT ${MASQ} -j MASQUERADE${rf ? " --random-fully" : ""}${tail}`;
  const perProtocol = (rf: boolean, tails: string[]) =>
    ["tcp", "udp", "sctp"].flatMap((p) => tails.map((t) => rule(rf, ` -p ${p}${t}`)));
  const cases: { desc: string; toPorts: string; want: (rf: boolean) => string[] }[] = [
    { desc: "default", toPorts: "", want: (rf) => [rule(rf)] },
    {
      desc: "single range",
      toPorts: "1024-29999",
      want: (rf) => [...perProtocol(rf, [" --to-ports 1024-29999"]), rule(rf)],
    },
    {
      desc: "double ranges",
      toPorts: "1024-29999,32768-65535",
      want: (rf) => [
        ...perProtocol(rf, [
          " -m statistic --mode random --probability 0.469292562840114 --to-ports 1024-29999",
          " --to-ports 32768-65535",
        ]),
        rule(rf),
      ],
    },
    {
      desc: "triple ranges",
      toPorts: "1024-29999,32768-49151,61000-65535",
      want: (rf) => [
        ...perProtocol(rf, [
          " -m statistic --mode random --probability 0.5807279140612474 --to-ports 1024-29999",
          " -m statistic --mode random --probability 0.7831739961759082 --to-ports 32768-49151",
          " --to-ports 61000-65535",
        ]),
        rule(rf),
      ],
    },
    {
      desc: "individual ports",
      toPorts: "1024,65535",
      want: (rf) => [
        ...perProtocol(rf, [
          " -m statistic --mode random --probability 0.5 --to-ports 1024",
          " --to-ports 65535",
        ]),
        rule(rf),
      ],
    },
  ];
  for (const rf of [true, false]) {
    for (const c of cases) {
      it(`${c.desc} (random-fully=${rf})`, () => {
        const flags = { ...DEFAULT_FLAGS, toPorts: c.toPorts, randomFully: rf };
        const lines = desiredChain(empty, flags, "ipv4")
          .rules.filter((r) => r.kind === "masquerade")
          .map((r) => r.line);
        expect(lines).toEqual(c.want(rf));
      });
    }
  }
  it("the whole payload keeps the RETURN rules first", () => {
    const flags = { ...DEFAULT_FLAGS, toPorts: "32768-65535" };
    expect(renderRestorePayload(empty, flags, "ipv4")).toBe(
      payload([
        ret("169.254.0.0/16"),
        ...perProtocol(true, [" --to-ports 32768-65535"]),
        masq(true),
      ]),
    );
  });
  it("refuses a bad spec", () => {
    expect(() => desiredChain(empty, { ...DEFAULT_FLAGS, toPorts: "70000" }, "ipv4")).toThrow(
      /out of range/,
    );
  });
});

describe("apply payload", () => {
  it("adds the jump only when asked and deletes surplus jumps in the same transaction", () => {
    const text = renderApplyPayload(empty, DEFAULT_FLAGS, "ipv4", {
      addJump: true,
      deleteJumps: ["-j IP-MASQ-AGENT"],
    });
    expect(text.split("\n").slice(-4)).toEqual([
      "-D POSTROUTING -j IP-MASQ-AGENT",
      jumpRuleLine("IP-MASQ-AGENT"),
      "COMMIT",
      "",
    ]);
  });
  it("the jump keeps upstream's literal quotes in the comment", () => {
    expect(jumpRuleLine("IP-MASQ-AGENT")).toBe(
      '-A POSTROUTING -m comment --comment "\\"ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain\\"" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
    );
    const parsed = parseIptables(jumpRuleLine("IP-MASQ-AGENT"))
      .ruleset.tables.get("nat")
      ?.get("POSTROUTING")?.rules[0];
    expect(parsed?.comment?.startsWith('"ip-masq-agent: ensure')).toBe(true);
  });
});

const EXC =
  '-m comment --comment "ip-masq-agent: masqueradeCIDRs traffic is subject to MASQUERADE"';
const exc = (cidr: string, rest = " --random-fully") =>
  `-A IP-MASQ-AGENT ${EXC} -d ${cidr} -j MASQUERADE${rest}`;

describe("masqueradeCIDRs: most specific first, each rule with the agent's flags", () => {
  const base = { ...empty, masqLinkLocal: true };
  const tests: {
    desc: string;
    input: { config: MasqConfig; flags?: Partial<AgentFlags>; family?: Family };
    want: string[];
  }[] = [
    {
      desc: "the example",
      input: {
        config: {
          ...base,
          nonMasqueradeCIDRs: ["10.0.0.0/8"],
          masqueradeCIDRs: ["10.100.10.0/24"],
        },
      },
      want: [exc("10.100.10.0/24"), ret("10.0.0.0/8"), masq(true)],
    },
    {
      desc: "three levels, link-local in its place by prefix",
      input: {
        config: {
          ...empty,
          nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"],
          masqueradeCIDRs: ["10.100.0.0/16"],
        },
      },
      want: [
        ret("10.100.10.0/24"),
        exc("10.100.0.0/16"),
        ret("169.254.0.0/16"),
        ret("10.0.0.0/8"),
        masq(true),
      ],
    },
    {
      desc: "without --random-fully",
      input: {
        config: { ...base, nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.1.0.0/16"] },
        flags: { randomFully: false },
      },
      want: [exc("10.1.0.0/16", ""), ret("10.0.0.0/8"), masq(false)],
    },
    {
      desc: "--to-ports: the exception gets upstream's per-protocol rules too",
      input: {
        config: { ...base, nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.1.0.0/16"] },
        flags: { toPorts: "2000-2999" },
      },
      want: [
        exc("10.1.0.0/16", " --random-fully -p tcp --to-ports 2000-2999"),
        exc("10.1.0.0/16", " --random-fully -p udp --to-ports 2000-2999"),
        exc("10.1.0.0/16", " --random-fully -p sctp --to-ports 2000-2999"),
        exc("10.1.0.0/16"),
        ret("10.0.0.0/8"),
        `-A IP-MASQ-AGENT ${MASQ} -j MASQUERADE --random-fully -p tcp --to-ports 2000-2999`,
        `-A IP-MASQ-AGENT ${MASQ} -j MASQUERADE --random-fully -p udp --to-ports 2000-2999`,
        `-A IP-MASQ-AGENT ${MASQ} -j MASQUERADE --random-fully -p sctp --to-ports 2000-2999`,
        masq(true),
      ],
    },
    {
      desc: "IPv6: canonical text, only the family's entries",
      input: {
        config: {
          ...empty,
          masqLinkLocalIPv6: true,
          nonMasqueradeCIDRs: ["10.0.0.0/8", "fd00::/8"],
          masqueradeCIDRs: ["FD00:10::/32"],
        },
        flags: { enableIPv6: true },
        family: "ipv6",
      },
      want: [exc("fd00:10::/32"), ret("fd00::/8"), masq(true)],
    },
    {
      desc: "an empty list renders as upstream (config order)",
      input: {
        config: {
          ...empty,
          nonMasqueradeCIDRs: ["10.0.0.0/8", "10.1.0.0/16"],
          masqueradeCIDRs: [],
        },
      },
      want: [ret("169.254.0.0/16"), ret("10.0.0.0/8"), ret("10.1.0.0/16"), masq(true)],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const flags = { ...DEFAULT_FLAGS, ...input.flags };
    expect(renderRestorePayload(input.config, flags, input.family ?? "ipv4")).toBe(payload(want));
  });

  it("marks exception rules with their destination", () => {
    const d = desiredChain(
      { ...base, nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.1.0.0/16"] },
      DEFAULT_FLAGS,
      "ipv4",
    );
    expect(d.rules.map((r) => `${r.kind} ${r.cidr?.canonical ?? "*"}`)).toEqual([
      "masquerade 10.1.0.0/16",
      "return 10.0.0.0/8",
      "masquerade *",
    ]);
  });

  it("iptables reads every rendered line back", () => {
    const text = renderRestorePayload(
      { ...base, nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.1.0.0/16"] },
      { ...DEFAULT_FLAGS, toPorts: "2000-2999" },
      "ipv4",
    );
    const parsed = parseIptables(text);
    expect(parsed.errors).toEqual([]);
  });
});
