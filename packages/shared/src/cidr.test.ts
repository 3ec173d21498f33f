import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, mustParseCidr, parseCidr, parseIp, rangesCover, toRanges } from "./cidr.js";

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
    { desc: "v4-mapped", input: "::ffff:10.0.0.0/104", want: { reason: "ipv4-mapped" } },
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
