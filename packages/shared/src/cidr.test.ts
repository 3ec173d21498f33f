import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cidrContains,
  iptablesPrefix,
  mustParseCidr,
  nonCanonicalReason,
  parseCidr,
  parseIp,
  rangesCover,
  toRanges,
} from "./cidr.js";

describe("parseCidr (Go net.ParseCIDR + upstream alignment check)", () => {
  const cases: {
    desc: string;
    input: string;
    want: string | { reason: string; suggestion?: string };
  }[] = [
    { desc: "ipv4", input: "10.0.0.0/8", want: "10.0.0.0/8" },
    { desc: "host", input: "10.1.2.3/32", want: "10.1.2.3/32" },
    { desc: "all", input: "0.0.0.0/0", want: "0.0.0.0/0" },
    { desc: "ipv6", input: "fc00::/7", want: "fc00::/7" },
    { desc: "ipv6 upper case", input: "FC00::/7", want: "fc00::/7" },
    { desc: "ipv6 long form", input: "fd00:0:0:0:0:0:0:0/8", want: "fd00::/8" },
    { desc: "prefix with leading zero (Go accepts)", input: "10.0.0.0/08", want: "10.0.0.0/8" },
    { desc: "not a cidr", input: "abcdefg", want: { reason: "unparsable" } },
    { desc: "no prefix", input: "10.0.0.0", want: { reason: "unparsable" } },
    { desc: "octet > 255", input: "10.256.0.0/16", want: { reason: "unparsable" } },
    { desc: "octet with leading zero", input: "010.0.0.0/8", want: { reason: "unparsable" } },
    { desc: "prefix too long", input: "10.0.0.0/33", want: { reason: "unparsable" } },
    { desc: "negative prefix", input: "10.0.0.0/-1", want: { reason: "unparsable" } },
    { desc: "three octets", input: "10.0.0/8", want: { reason: "unparsable" } },
    { desc: "zone", input: "fe80::%eth0/10", want: { reason: "unparsable" } },
    { desc: "spaces", input: " 10.0.0.0/8", want: { reason: "unparsable" } },
    {
      desc: "misaligned",
      input: "10.0.0.1/8",
      want: { reason: "misaligned", suggestion: "10.0.0.0/8" },
    },
    {
      desc: "misaligned v6",
      input: "fd00::1/8",
      want: { reason: "misaligned", suggestion: "fd00::/8" },
    },
    {
      desc: "v4-mapped",
      input: "::ffff:10.0.0.0/104",
      want: { reason: "ipv4-mapped", suggestion: "10.0.0.0/8" },
    },
    // Go's netip.ParseAddr for IPv6.
    { desc: "embedded IPv4", input: "::1.2.3.4/128", want: "::102:304/128" },
    {
      desc: "embedded IPv4 with a leading zero",
      input: "::1.2.3.04/128",
      want: { reason: "unparsable" },
    },
    {
      desc: "embedded IPv4 not at the end",
      input: "1.2.3.4::/128",
      want: { reason: "unparsable" },
    },
    {
      desc: ":: for one group at the end",
      input: "1:2:3:4:5:6:7::/128",
      want: "1:2:3:4:5:6:7:0/128",
    },
    { desc: ":: for no group", input: "1:2:3:4:5:6:7::8/128", want: { reason: "unparsable" } },
    { desc: "two ::", input: "1::2::3/128", want: { reason: "unparsable" } },
    { desc: "five hex digits", input: "00000::/8", want: { reason: "unparsable" } },
    { desc: "nine groups", input: "1:2:3:4:5:6:7:8:9/128", want: { reason: "unparsable" } },
    { desc: "prefix with many leading zeros", input: "fd00::/0008", want: "fd00::/8" },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      const r = parseCidr(input);
      if (typeof want === "string") {
        expect(r.ok && r.cidr.canonical).toBe(want);
      } else {
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.reason).toBe(want.reason);
          expect(r.suggestion).toBe(want.suggestion);
        }
      }
    });
  }

  it("uses upstream's error texts", () => {
    const bad = parseCidr("abcdefg");
    expect(!bad.ok && bad.message).toBe(
      'CIDR "abcdefg" could not be parsed, invalid CIDR address: abcdefg',
    );
    const mis = parseCidr("10.0.0.1/8");
    expect(!mis.ok && mis.message).toBe(
      'CIDR "10.0.0.1/8" is not aligned to a CIDR block, ip: "10.0.0.1" network: "10.0.0.0/8"',
    );
  });
});

describe("non-canonical text", () => {
  const cases: {
    desc: string;
    input: string;
    want: [string | undefined, number | null | undefined];
  }[] = [
    { desc: "canonical", input: "10.0.0.0/8", want: [undefined, undefined] },
    {
      desc: "octal 016 = 14",
      input: "192.168.0.0/016",
      want: ["the prefix /016 has leading zeros", 14],
    },
    { desc: "08 refused", input: "10.0.0.0/08", want: ["the prefix /08 has leading zeros", null] },
    {
      desc: "IPv6 octal",
      input: "fd00::/0100",
      want: ["the prefix /0100 has leading zeros", 64],
    },
    { desc: "00 is 0", input: "0.0.0.0/00", want: ["the prefix /00 has leading zeros", 0] },
    { desc: "upper case", input: "FD00::/8", want: ["upper-case hex digits", undefined] },
    { desc: "group zeros", input: "fd00:0000::/8", want: ["leading zeros in a group", undefined] },
    {
      desc: "uncompressed",
      input: "fd00:0:0:0:0:0:0:0/8",
      want: ["zero groups written otherwise than RFC 5952 prescribes", undefined],
    },
    { desc: "dotted", input: "::1.2.3.4/128", want: ["an embedded IPv4 address", undefined] },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      const c = mustParseCidr(input);
      expect([nonCanonicalReason(c), iptablesPrefix(c)]).toEqual(want);
    });
  }
});

describe("containment and ranges", () => {
  it("contains", () => {
    expect(cidrContains(mustParseCidr("10.0.0.0/8"), mustParseCidr("10.1.0.0/16"))).toBe(true);
    expect(cidrContains(mustParseCidr("10.1.0.0/16"), mustParseCidr("10.0.0.0/8"))).toBe(false);
    expect(cidrContains(mustParseCidr("0.0.0.0/0"), mustParseCidr("fc00::/7"))).toBe(false);
  });
  it("merged ranges cover split blocks", () => {
    const r = toRanges([mustParseCidr("10.0.0.0/9"), mustParseCidr("10.128.0.0/9")]);
    expect(r).toHaveLength(1);
    expect(rangesCover(r, mustParseCidr("10.0.0.0/8"))).toBe(true);
    expect(rangesCover(r, mustParseCidr("11.0.0.0/8"))).toBe(false);
  });
  it("rangesCover finds the range by binary search, at every position", () => {
    const blocks = Array.from({ length: 50 }, (_, i) => mustParseCidr(`10.${i * 2}.0.0/16`));
    const r = toRanges(blocks);
    for (let i = 0; i < 100; i++) {
      const c = mustParseCidr(`10.${i}.1.0/24`);
      expect(rangesCover(r, c)).toBe(i % 2 === 0);
    }
    expect(rangesCover(r, mustParseCidr("9.255.255.255/32"))).toBe(false);
    expect(rangesCover(r, mustParseCidr("10.0.0.0/15"))).toBe(false);
    expect(rangesCover([], mustParseCidr("10.0.0.0/8"))).toBe(false);
  });
  it("parseIp is strict", () => {
    expect(parseIp("1.2.3.4")?.family).toBe("ipv4");
    expect(parseIp("1.2.3")).toBeNull();
    expect(parseIp("01.2.3.4")).toBeNull();
    expect(parseIp("::1")?.family).toBe("ipv6");
  });
  it("every aligned random v4 block round-trips through its canonical text", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 32 }),
        (n, prefix) => {
          const masked = prefix === 0 ? 0 : ((n >>> (32 - prefix)) << (32 - prefix)) >>> 0;
          const text = `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join(".")}/${prefix}`;
          const r = parseCidr(text);
          return r.ok && r.cidr.canonical === text;
        },
      ),
    );
  });
});
