// Go's own tables for time.ParseDuration (src/time/time_test.go: parseDurationTests,
// parseDurationErrorTests and the extremes of TestParseDurationRoundTrip), carried over as
// data: every input Go parses parses here to the same nanoseconds, and every input Go refuses
// is refused with an error quoting it as Go does. `desc` is the group Go's table gives it.
import { describe, expect, it } from "vitest";
import { formatGoDuration, parseGoDuration } from "./duration.js";

const NS = 1n;
const US = 1_000n;
const MS = 1_000_000n;
const S = 1_000_000_000n;
const M = 60n * S;
const H = 60n * M;
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

const goParses: { desc: string; input: string; want: bigint }[] = [
  { desc: "simple", input: "0", want: 0n },
  { desc: "simple", input: "5s", want: 5n * S },
  { desc: "simple", input: "30s", want: 30n * S },
  { desc: "simple", input: "1478s", want: 1478n * S },
  { desc: "sign", input: "-5s", want: -5n * S },
  { desc: "sign", input: "+5s", want: 5n * S },
  { desc: "sign", input: "-0", want: 0n },
  { desc: "sign", input: "+0", want: 0n },
  { desc: "decimal", input: "5.0s", want: 5n * S },
  { desc: "decimal", input: "5.6s", want: 5n * S + 600n * MS },
  { desc: "decimal", input: "5.s", want: 5n * S },
  { desc: "decimal", input: ".5s", want: 500n * MS },
  { desc: "decimal", input: "1.0s", want: 1n * S },
  { desc: "decimal", input: "1.00s", want: 1n * S },
  { desc: "decimal", input: "1.004s", want: 1n * S + 4n * MS },
  { desc: "decimal", input: "1.0040s", want: 1n * S + 4n * MS },
  { desc: "decimal", input: "100.00100s", want: 100n * S + 1n * MS },
  { desc: "different units", input: "10ns", want: 10n * NS },
  { desc: "different units", input: "11us", want: 11n * US },
  { desc: "different units (U+00B5)", input: "12µs", want: 12n * US },
  { desc: "different units (U+03BC)", input: "12μs", want: 12n * US },
  { desc: "different units", input: "13ms", want: 13n * MS },
  { desc: "different units", input: "14s", want: 14n * S },
  { desc: "different units", input: "15m", want: 15n * M },
  { desc: "different units", input: "16h", want: 16n * H },
  { desc: "composite", input: "3h30m", want: 3n * H + 30n * M },
  { desc: "composite", input: "10.5s4m", want: 4n * M + 10n * S + 500n * MS },
  { desc: "composite", input: "-2m3.4s", want: -(2n * M + 3n * S + 400n * MS) },
  {
    desc: "composite",
    input: "1h2m3s4ms5us6ns",
    want: 1n * H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n * NS,
  },
  { desc: "composite", input: "39h9m14.425s", want: 39n * H + 9n * M + 14n * S + 425n * MS },
  { desc: "large value", input: "52763797000ns", want: 52763797000n * NS },
  { desc: "more than 9 digits after the point", input: "0.3333333333333333333h", want: 20n * M },
  {
    desc: "2^53 + 1 (not exact in a float64)",
    input: "9007199254740993ns",
    want: (1n << 53n) + 1n,
  },
  { desc: "largest int64", input: "9223372036854775807ns", want: MAX },
  { desc: "largest int64", input: "9223372036854775.807us", want: MAX },
  { desc: "largest int64", input: "9223372036s854ms775us807ns", want: MAX },
  { desc: "smallest int64", input: "-9223372036854775808ns", want: MIN },
  { desc: "smallest int64", input: "-9223372036854775.808us", want: MIN },
  { desc: "smallest int64", input: "-9223372036s854ms775us808ns", want: MIN },
  {
    desc: "largest negative wrap (go.dev/issue/48629)",
    input: "-2562047h47m16.854775808s",
    want: MIN,
  },
  { desc: "huge string (go.dev/issue/15011)", input: "0.100000000000000000000h", want: 6n * M },
  {
    desc: "first overflow check in leadingFraction",
    input: "0.830103483285477580700h",
    want: 49n * M + 48n * S + 372539827n * NS,
  },
];

// Go's rows with bytes that are not UTF-8 ("\x85\x85", "\xffff", …) have no JS string: the
// ConfigMap text is UTF-8-decoded before it is parsed, so those inputs cannot reach this parser.
const goRefuses: { desc: string; input: string; want: string }[] = [
  { desc: "invalid", input: "", want: '""' },
  { desc: "invalid", input: "3", want: '"3"' },
  { desc: "invalid", input: "-", want: '"-"' },
  { desc: "invalid", input: "s", want: '"s"' },
  { desc: "invalid", input: ".", want: '"."' },
  { desc: "invalid", input: "-.", want: '"-."' },
  { desc: "invalid", input: ".s", want: '".s"' },
  { desc: "invalid", input: "+.s", want: '"+.s"' },
  { desc: "invalid", input: "1d", want: '"1d"' },
  { desc: "utf8.RuneError", input: "\uFFFD", want: '"\\xef\\xbf\\xbd"' },
  {
    desc: "utf8.RuneError",
    input: "\uFFFD hello \uFFFD world",
    want: '"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"',
  },
  { desc: "overflow", input: "9223372036854775810ns", want: '"9223372036854775810ns"' },
  { desc: "overflow", input: "9223372036854775808ns", want: '"9223372036854775808ns"' },
  { desc: "overflow", input: "-9223372036854775809ns", want: '"-9223372036854775809ns"' },
  { desc: "overflow", input: "9223372036854776us", want: '"9223372036854776us"' },
  { desc: "overflow", input: "3000000h", want: '"3000000h"' },
  { desc: "overflow", input: "9223372036854775.808us", want: '"9223372036854775.808us"' },
  { desc: "overflow", input: "9223372036854ms775us808ns", want: '"9223372036854ms775us808ns"' },
];

describe("Go's parseDurationTests", () => {
  it.each(goParses)("$desc: $input", ({ input, want }) => {
    const r = parseGoDuration(input);
    expect(r.ok ? r.ns : r.message).toBe(want);
  });
});

describe("Go's parseDurationErrorTests", () => {
  it.each(goRefuses)("$desc: $input", ({ input, want }) => {
    const r = parseGoDuration(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toContain(want);
  });
});

describe("Go's TestParseDurationRoundTrip extremes", () => {
  it.each([
    { desc: "largest", input: MAX },
    { desc: "smallest", input: MIN },
  ])("$desc", ({ input }) => {
    const r = parseGoDuration(formatGoDuration(input));
    expect(r.ok ? r.ns : r.message).toBe(input);
  });
});
