import { describe, expect, it } from "vitest";
import { formatInterval, intervalSize, type PortsParse, parseToPorts } from "./ports.js";

describe("parseToPorts (upstream's --to-ports intervals)", () => {
  const cases: { desc: string; input: string; want: PortsParse }[] = [
    { desc: "empty: no --to-ports", input: "", want: { ok: true, intervals: [] } },
    {
      desc: "one port",
      input: "1024",
      want: { ok: true, intervals: [{ first: 1024, last: 1024 }] },
    },
    {
      desc: "a range",
      input: "1024-29999",
      want: { ok: true, intervals: [{ first: 1024, last: 29999 }] },
    },
    {
      desc: "the upstream example: two ranges",
      input: "1024-29999,32768-65535",
      want: {
        ok: true,
        intervals: [
          { first: 1024, last: 29999 },
          { first: 32768, last: 65535 },
        ],
      },
    },
    {
      desc: "the full range",
      input: "1-65535",
      want: { ok: true, intervals: [{ first: 1, last: 65535 }] },
    },
    {
      desc: "a range of one",
      input: "80-80",
      want: { ok: true, intervals: [{ first: 80, last: 80 }] },
    },
    {
      desc: "port 0",
      input: "0",
      want: { ok: false, message: '--to-ports: port out of range 1-65535 in "0"' },
    },
    {
      desc: "past 65535",
      input: "1024-65536",
      want: { ok: false, message: '--to-ports: port out of range 1-65535 in "1024-65536"' },
    },
    {
      desc: "reversed",
      input: "2000-1000",
      want: { ok: false, message: '--to-ports: first is greater than last in "2000-1000"' },
    },
    {
      desc: "three parts",
      input: "1-2-3",
      want: { ok: false, message: '--to-ports: invalid interval "1-2-3"' },
    },
    {
      desc: "not a number",
      input: "http",
      want: { ok: false, message: '--to-ports: invalid port number in "http"' },
    },
    {
      desc: "an open range",
      input: "1024-",
      want: { ok: false, message: '--to-ports: invalid port number in "1024-"' },
    },
    {
      desc: "an empty element",
      input: "1024,",
      want: { ok: false, message: '--to-ports: invalid port number in ""' },
    },
    {
      desc: "spaces are not allowed",
      input: "1024, 2048",
      want: { ok: false, message: '--to-ports: invalid port number in " 2048"' },
    },
    {
      desc: "a negative port",
      input: "-5",
      want: { ok: false, message: '--to-ports: invalid port number in "-5"' },
    },
    {
      desc: "the first bad element is named",
      input: "80,0,99999",
      want: { ok: false, message: '--to-ports: port out of range 1-65535 in "0"' },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(parseToPorts(input)).toEqual(want);
  });
});

describe("intervalSize and formatInterval", () => {
  const cases: { desc: string; input: { first: number; last: number }; want: [number, string] }[] =
    [
      { desc: "one port", input: { first: 80, last: 80 }, want: [1, "80"] },
      { desc: "a range", input: { first: 1024, last: 29999 }, want: [28976, "1024-29999"] },
      { desc: "the full range", input: { first: 1, last: 65535 }, want: [65535, "1-65535"] },
      { desc: "reversed counts nothing", input: { first: 10, last: 5 }, want: [0, "10-5"] },
    ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect([intervalSize(input), formatInterval(input)]).toEqual(want);
  });
});
