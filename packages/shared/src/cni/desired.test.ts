import { describe, expect, it } from "vitest";
import type { MasqConfig } from "../config.js";
import { config, DEFAULT_WANT } from "../test-fixtures/cni.js";
import { desiredExceptions } from "./index.js";

describe("desiredExceptions", () => {
  const cases: { desc: string; input: Partial<MasqConfig>; want: string[] }[] = [
    { desc: "defaults: RFC 1918 then link-local", input: {}, want: DEFAULT_WANT },
    {
      desc: "masqLinkLocal drops link-local",
      input: { masqLinkLocal: true },
      want: DEFAULT_WANT.slice(0, 3),
    },
    {
      desc: "order kept, IPv6 left out",
      input: { nonMasqueradeCIDRs: ["192.168.0.0/16", "fd00::/8", "10.0.0.0/8"] },
      want: ["192.168.0.0/16", "10.0.0.0/8", "169.254.0.0/16"],
    },
    {
      desc: "canonical and without duplicates",
      input: { nonMasqueradeCIDRs: ["10.0.0.0/08", "10.0.0.0/8"] },
      want: ["10.0.0.0/8", "169.254.0.0/16"],
    },
    {
      desc: "link-local already listed",
      input: { nonMasqueradeCIDRs: ["169.254.0.0/16", "10.0.0.0/8"] },
      want: ["169.254.0.0/16", "10.0.0.0/8"],
    },
    {
      desc: "invalid entries skipped",
      input: { nonMasqueradeCIDRs: ["bogus", "10.0.0.1/8", "100.64.0.0/10"] },
      want: ["100.64.0.0/10", "169.254.0.0/16"],
    },
    { desc: "nothing at all", input: { nonMasqueradeCIDRs: [], masqLinkLocal: true }, want: [] },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => expect(desiredExceptions(config(input))).toEqual(want));
  }
});
