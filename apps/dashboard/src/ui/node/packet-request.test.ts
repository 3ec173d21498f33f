import { describe, expect, it } from "vitest";
import { type PacketInput, packetRequest } from "./packet-request";

const empty: PacketInput = { ip: "", source: "", protocol: "", dport: "", mark: "" };

describe("packetRequest", () => {
  const cases: { desc: string; input: Partial<PacketInput>; want: unknown }[] = [
    {
      desc: "the destination alone",
      input: { ip: " 10.20.30.40 " },
      want: { body: { ip: "10.20.30.40" } },
    },
    {
      desc: "every field, the mark as iptables prints it",
      input: {
        ip: "10.20.30.40",
        source: "10.100.65.70",
        protocol: "tcp",
        dport: "443",
        mark: "0x4000",
      },
      want: {
        body: {
          ip: "10.20.30.40",
          source: "10.100.65.70",
          protocol: "tcp",
          dport: 443,
          mark: 0x4000,
        },
      },
    },
    {
      desc: "mark 0 is a value, not an empty field",
      input: { ip: "1.1.1.1", mark: "0" },
      want: { body: { ip: "1.1.1.1", mark: 0 } },
    },
    { desc: "no destination", input: {}, want: { error: "Type a destination IP." } },
    {
      desc: "a bad destination",
      input: { ip: "10.20.30" },
      want: { error: '"10.20.30" is not an IP address.' },
    },
    {
      desc: "a bad source",
      input: { ip: "1.1.1.1", source: "pod-a" },
      want: { error: 'Source "pod-a" is not an IP address.' },
    },
    {
      desc: "a port out of range",
      input: { ip: "1.1.1.1", dport: "70000" },
      want: { error: 'Port "70000" is not a number in 0-65535.' },
    },
    {
      desc: "a mark that is not a number",
      input: { ip: "1.1.1.1", mark: "zz" },
      want: { error: 'Mark "zz": a mark is a number from 0 to 0xffffffff, e.g. 0 or 0x4000.' },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(packetRequest({ ...empty, ...input })).toEqual(want);
  });
});
