import { describe, expect, it } from "vitest";
import { type Family, parseCidr } from "../cidr.js";
import { loopbackSourcesOnly } from "./loopback.js";
import { cidrRange, fullRange, type RangeSet } from "./range-set.js";

const set = (...cidrs: string[]): RangeSet =>
  cidrs.map((c) => {
    const p = parseCidr(c);
    if (!p.ok) throw new Error(c);
    return cidrRange(p.cidr);
  });

describe("loopbackSourcesOnly", () => {
  it.each<{ desc: string; input: { source: RangeSet; family: Family }; want: boolean }>([
    { desc: "127.0.0.1", input: { source: set("127.0.0.1/32"), family: "ipv4" }, want: true },
    { desc: "all of 127/8", input: { source: set("127.0.0.0/8"), family: "ipv4" }, want: true },
    {
      desc: "a pod range",
      input: { source: set("10.12.4.0/24"), family: "ipv4" },
      want: false,
    },
    {
      desc: "loopback and a pod range",
      input: { source: set("10.12.4.0/24", "127.0.0.1/32"), family: "ipv4" },
      want: false,
    },
    { desc: "any source", input: { source: [fullRange("ipv4")], family: "ipv4" }, want: false },
    { desc: "no source at all", input: { source: [], family: "ipv4" }, want: false },
    { desc: "::1", input: { source: set("::1/128"), family: "ipv6" }, want: true },
  ])("$desc", ({ input, want }) => {
    expect(loopbackSourcesOnly(input.source, input.family)).toBe(want);
  });
});
