import { describe, expect, it } from "vitest";
import type { Family } from "../cidr.js";
import { mustParseCidr } from "../cidr.js";
import { type AgentFlags, DEFAULT_FLAGS, type MasqConfig } from "../config.js";
import { cidrRange } from "../path/range-set.js";
import { desiredNftTable, nftElementText, renderNftApply, renderNftRemove } from "./render.js";

const config = (cidrs: string[], extra: Partial<MasqConfig> = {}): MasqConfig => ({
  nonMasqueradeCIDRs: cidrs,
  masqLinkLocal: false,
  masqLinkLocalIPv6: false,
  cidrLimit: 64,
  resyncInterval: "60s",
  ...extra,
});
const flags = (extra: Partial<AgentFlags> = {}): AgentFlags => ({ ...DEFAULT_FLAGS, ...extra });
const range = (first: string, last: string) => ({
  first: cidrRange(mustParseCidr(first)).first,
  last: cidrRange(mustParseCidr(last)).last,
});

describe("nftElementText", () => {
  const cases: { desc: string; family: Family; input: [string, string]; want: string }[] = [
    {
      desc: "one address",
      family: "ipv4",
      input: ["10.1.0.1/32", "10.1.0.1/32"],
      want: "10.1.0.1",
    },
    { desc: "a prefix", family: "ipv4", input: ["10.0.0.0/8", "10.0.0.0/8"], want: "10.0.0.0/8" },
    {
      desc: "two adjacent blocks are one prefix",
      family: "ipv4",
      input: ["10.0.0.0/8", "11.0.0.0/8"],
      want: "10.0.0.0/7",
    },
    {
      desc: "not aligned: a range",
      family: "ipv4",
      input: ["100.64.0.0/30", "100.64.0.4/31"],
      want: "100.64.0.0-100.64.0.5",
    },
    {
      desc: "the whole space",
      family: "ipv4",
      input: ["0.0.0.0/0", "0.0.0.0/0"],
      want: "0.0.0.0/0",
    },
    { desc: "IPv6 prefix", family: "ipv6", input: ["fd00::/8", "fd00::/8"], want: "fd00::/8" },
    {
      desc: "IPv6 range",
      family: "ipv6",
      input: ["2001:db8::/127", "2001:db8::2/128"],
      want: "2001:db8::-2001:db8::2",
    },
  ];
  for (const { desc, family, input, want } of cases)
    it(desc, () => expect(nftElementText(family, range(...input))).toBe(want));
});

describe("desiredNftTable", () => {
  const cases: {
    desc: string;
    input: { config: MasqConfig; flags: AgentFlags };
    want: { sets: Record<string, string[]>; rules: string[] };
  }[] = [
    {
      desc: "defaults: link-local first merged in, IPv6 returns, one fully-random masquerade",
      input: { config: config(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]), flags: flags() },
      want: {
        sets: { nonmasq_v4: ["10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"] },
        rules: [
          "fib daddr type local return",
          "meta nfproto ipv6 return",
          "ip daddr @nonmasq_v4 return",
          "masquerade fully-random",
        ],
      },
    },
    {
      desc: "overlapping and adjacent CIDRs merge (interval sets refuse overlaps); masqLinkLocal drops 169.254/16",
      input: {
        config: config(["10.0.0.0/8", "10.1.0.0/16", "11.0.0.0/8", "192.0.2.7/32"], {
          masqLinkLocal: true,
        }),
        flags: flags({ randomFully: false }),
      },
      want: {
        sets: { nonmasq_v4: ["10.0.0.0/7", "192.0.2.7"] },
        rules: [
          "fib daddr type local return",
          "meta nfproto ipv6 return",
          "ip daddr @nonmasq_v4 return",
          "masquerade",
        ],
      },
    },
    {
      desc: "IPv6 on: both sets, fe80::/10 unless masqLinkLocalIPv6; --to-ports as upstream's shares",
      input: {
        config: config(["10.0.0.0/8", "fd00::/8"]),
        flags: flags({ enableIPv6: true, toPorts: "1024-29999,32768-65535" }),
      },
      want: {
        sets: {
          nonmasq_v4: ["10.0.0.0/8", "169.254.0.0/16"],
          nonmasq_v6: ["fd00::/8", "fe80::/10"],
        },
        rules: [
          "fib daddr type local return",
          "ip daddr @nonmasq_v4 return",
          "ip6 daddr @nonmasq_v6 return",
          "meta l4proto { tcp, udp, sctp } numgen random mod 61744 < 28976 masquerade to :1024-29999 fully-random",
          "meta l4proto { tcp, udp, sctp } masquerade to :32768-65535 fully-random",
          "masquerade fully-random",
        ],
      },
    },
    {
      desc: "one port: no draw",
      input: { config: config([], { masqLinkLocal: true }), flags: flags({ toPorts: "4000" }) },
      want: {
        sets: { nonmasq_v4: [] },
        rules: [
          "fib daddr type local return",
          "meta nfproto ipv6 return",
          "ip daddr @nonmasq_v4 return",
          "meta l4proto { tcp, udp, sctp } masquerade to :4000 fully-random",
          "masquerade fully-random",
        ],
      },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const d = desiredNftTable(input.config, input.flags);
      const sets = Object.fromEntries(
        d.sets.map((s) => [s.name, s.ranges.map((r) => nftElementText(s.family, r))]),
      );
      expect({ sets, rules: d.rules.map((r) => r.statement) }).toEqual(want);
    });

  it("refuses a bad --to-ports as desiredChain does", () =>
    expect(() => desiredNftTable(config([]), flags({ toPorts: "9-1" }))).toThrow(/to-ports/));
});

describe("renderNftApply", () => {
  const cases: {
    desc: string;
    input: Parameters<typeof renderNftApply>[2];
    want: { has: string[]; not: string[] };
  }[] = [
    {
      desc: "fresh: create if missing, flush rules, declare, refill (no delete)",
      input: undefined,
      want: {
        has: [
          "table inet ip_masq_agent {}\nflush table inet ip_masq_agent\n",
          "add set inet ip_masq_agent nonmasq_v4 { type ipv4_addr; flags interval; }\nflush set inet ip_masq_agent nonmasq_v4\n",
          "add chain inet ip_masq_agent postrouting { type nat hook postrouting priority srcnat; policy accept; }",
          "add element inet ip_masq_agent nonmasq_v4 {\n\t10.0.0.0/8, 169.254.0.0/16,\n}\n",
          'add rule inet ip_masq_agent postrouting ip daddr @nonmasq_v4 return comment "ip-masq-agent: local traffic is not subject to MASQUERADE"\n',
        ],
        not: ["delete"],
      },
    },
    {
      desc: "hand-added objects are deleted after the flush",
      input: {
        recreate: false,
        deleteChains: ["extra"],
        deleteSets: ["nonmasq_v6"],
        deleteMaps: ["m"],
      },
      want: {
        has: [
          "flush table inet ip_masq_agent\ndelete chain inet ip_masq_agent extra\ndelete set inet ip_masq_agent nonmasq_v6\ndelete map inet ip_masq_agent m\n",
        ],
        not: ["delete table"],
      },
    },
    {
      desc: "recreate: delete the table in the same transaction, no other deletes",
      input: { recreate: true, deleteChains: ["extra"], deleteSets: [], deleteMaps: [] },
      want: {
        has: [
          "table inet ip_masq_agent {}\ndelete table inet ip_masq_agent\ntable inet ip_masq_agent {}\nadd set",
        ],
        not: ["flush table", "delete chain"],
      },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const text = renderNftApply(config(["10.0.0.0/8"]), flags(), input);
      for (const s of want.has) expect(text).toContain(s);
      for (const s of want.not) expect(text).not.toContain(s);
    });

  it("removal works whether or not the table exists (nft 1.0.6 has no destroy)", () =>
    expect(renderNftRemove()).toBe(
      "table inet ip_masq_agent {}\ndelete table inet ip_masq_agent\n",
    ));
});
