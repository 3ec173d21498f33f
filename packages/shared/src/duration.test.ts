import { describe, expect, it } from "vitest";
import { formatGoDuration, parseGoDuration } from "./duration.js";

// Values and error texts of Go's time.ParseDuration (src/time/format.go, Go 1.26).
const parseTests: { desc: string; input: string; want: bigint | string }[] = [
  { desc: "seconds", input: "60s", want: 60_000_000_000n },
  { desc: "compound", input: "1h30m", want: 5_400_000_000_000n },
  { desc: "fraction of an hour", input: "1.5h", want: 5_400_000_000_000n },
  { desc: "leading dot", input: ".5s", want: 500_000_000n },
  { desc: "trailing dot", input: "5.s", want: 5_000_000_000n },
  { desc: "one nanosecond", input: "1ns", want: 1n },
  { desc: "micro sign", input: "1µs", want: 1_000n },
  { desc: "greek mu", input: "1μs", want: 1_000n },
  { desc: "plus sign", input: "+5s", want: 5_000_000_000n },
  { desc: "negative", input: "-2m", want: -120_000_000_000n },
  { desc: "bare zero", input: "0", want: 0n },
  { desc: "negative bare zero", input: "-0", want: 0n },
  { desc: "repeated unit adds up", input: "1h1h", want: 7_200_000_000_000n },
  { desc: "sub-nanosecond fraction truncates", input: "0.9ns", want: 0n },
  {
    desc: "fraction digits past int64 stop counting",
    input: "1.00000000000000000000009s",
    want: 1_000_000_000n,
  },
  { desc: "600h (past setTimeout's 2^31-1 ms)", input: "600h", want: 2_160_000_000_000_000n },
  { desc: "largest duration", input: "2562047h47m16.854775807s", want: (1n << 63n) - 1n },
  { desc: "largest in ns", input: "9223372036854775807ns", want: (1n << 63n) - 1n },
  { desc: "smallest duration", input: "-9223372036854775808ns", want: -(1n << 63n) },
  {
    desc: "Go's uint64 sum wraps to zero at 2^64",
    input: "9223372036854775808ns9223372036854775808ns",
    want: 0n,
  },
  { desc: "empty", input: "", want: 'time: invalid duration ""' },
  { desc: "sign only", input: "-", want: 'time: invalid duration "-"' },
  { desc: "no unit", input: "60", want: 'time: missing unit in duration "60"' },
  { desc: "space before unit", input: "5 s", want: 'time: unknown unit " s" in duration "5 s"' },
  { desc: "upper-case unit", input: "5S", want: 'time: unknown unit "S" in duration "5S"' },
  { desc: "days are not a unit", input: "1d", want: 'time: unknown unit "d" in duration "1d"' },
  {
    desc: "words",
    input: "5 minutes",
    want: 'time: unknown unit " minutes" in duration "5 minutes"',
  },
  { desc: "two dots", input: "1..5s", want: 'time: missing unit in duration "1..5s"' },
  { desc: "dot without digits", input: ".s", want: 'time: invalid duration ".s"' },
  { desc: "unit first", input: "s5", want: 'time: invalid duration "s5"' },
  {
    desc: "non-ASCII quoted as UTF-8 bytes",
    input: "5µx",
    want: 'time: unknown unit "\\xc2\\xb5x" in duration "5\\xc2\\xb5x"',
  },
  { desc: "past int64 hours", input: "2562048h", want: 'time: invalid duration "2562048h"' },
  {
    desc: "one ns past the largest",
    input: "2562047h47m16.854775808s",
    want: 'time: invalid duration "2562047h47m16.854775808s"',
  },
  {
    desc: "digits past 2^63",
    input: "9223372036854775809ns",
    want: 'time: invalid duration "9223372036854775809ns"',
  },
  {
    desc: "2^63 positive is one past the largest",
    input: "9223372036854775808ns",
    want: 'time: invalid duration "9223372036854775808ns"',
  },
];

describe("parseGoDuration (Go time.ParseDuration)", () => {
  for (const { desc, input, want } of parseTests) {
    it(desc, () => {
      const r = parseGoDuration(input);
      expect(r.ok ? r.ns : r.message).toEqual(want);
    });
  }

  it("gives milliseconds too", () => {
    const r = parseGoDuration("1m30.5s");
    expect(r.ok && r.ms).toBe(90_500);
  });
});

const formatTests: { desc: string; input: bigint; want: string }[] = [
  { desc: "zero", input: 0n, want: "0s" },
  { desc: "nanoseconds", input: 42n, want: "42ns" },
  { desc: "microseconds", input: 1_500n, want: "1.5µs" },
  { desc: "milliseconds", input: 250_000_000n, want: "250ms" },
  { desc: "seconds", input: 1_234_567_890n, want: "1.23456789s" },
  { desc: "minutes", input: 60_000_000_000n, want: "1m0s" },
  { desc: "hours", input: 5_400_000_000_000n, want: "1h30m0s" },
  { desc: "negative", input: -2_000_000_000n, want: "-2s" },
  { desc: "largest", input: (1n << 63n) - 1n, want: "2562047h47m16.854775807s" },
];

describe("formatGoDuration (Go Duration.String)", () => {
  for (const { desc, input, want } of formatTests) {
    it(desc, () => expect(formatGoDuration(input)).toBe(want));
  }
});
