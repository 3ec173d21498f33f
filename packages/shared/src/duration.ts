// Go's time.ParseDuration (src/time/format.go), which upstream uses for resyncInterval through
// metav1.Duration: same grammar, same overflow rules (an int64 of nanoseconds, about
// 2562047h47m16.854775807s), same error texts. Nanoseconds are bigints so nothing is rounded.
import { goTimeQuote } from "./go-quote.js";

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const U64 = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const LIMIT = 1n << 63n;

/** `ns` is exact; `ms` is the same duration in (fractional) milliseconds. */
export type DurationParse = { ok: true; ns: bigint; ms: number } | { ok: false; message: string };

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** Go's leadingInt: digits as an integer, or null on overflow past 2^63. */
function leadingInt(s: string): { x: bigint; rest: string } | null {
  let i = 0;
  let x = 0n;
  for (; i < s.length && isDigit(s[i]); i++) {
    if (x > LIMIT / 10n) return null;
    x = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (x > LIMIT) return null;
  }
  return { x, rest: s.slice(i) };
}

/** Go's leadingFraction: stops gaining precision (never fails) once the digits overflow. */
function leadingFraction(s: string): { f: bigint; scale: number; rest: string } {
  let i = 0;
  let f = 0n;
  let scale = 1;
  let overflow = false;
  for (; i < s.length && isDigit(s[i]); i++) {
    if (overflow) continue;
    if (f > I64_MAX / 10n) {
      overflow = true;
      continue;
    }
    const y = f * 10n + BigInt(s.charCodeAt(i) - 48);
    if (y > LIMIT) {
      overflow = true;
      continue;
    }
    f = y;
    scale *= 10;
  }
  return { f, scale, rest: s.slice(i) };
}

type Part = { ok: true; v: bigint; rest: string } | { ok: false; message: string };

/** One `[0-9]*(\.[0-9]*)?unit` element, as Go's loop body parses it. */
function parsePart(s: string, orig: string): Part {
  const invalid: Part = { ok: false, message: `time: invalid duration ${goTimeQuote(orig)}` };
  if (!(s[0] === "." || isDigit(s[0]))) return invalid;
  const lead = leadingInt(s);
  if (!lead) return invalid;
  const pre = lead.rest.length !== s.length;
  let rest = lead.rest;
  let f = 0n;
  let scale = 1;
  let post = false;
  if (rest[0] === ".") {
    const frac = leadingFraction(rest.slice(1));
    post = frac.rest.length !== rest.length - 1;
    ({ f, scale } = frac);
    rest = frac.rest;
  }
  if (!pre && !post) return invalid;
  let i = 0;
  while (i < rest.length && rest[i] !== "." && !isDigit(rest[i])) i++;
  if (i === 0) return { ok: false, message: `time: missing unit in duration ${goTimeQuote(orig)}` };
  const u = rest.slice(0, i);
  const unit = UNIT_NS[u];
  if (unit === undefined)
    return {
      ok: false,
      message: `time: unknown unit ${goTimeQuote(u)} in duration ${goTimeQuote(orig)}`,
    };
  if (lead.x > LIMIT / unit) return invalid;
  let v = lead.x * unit;
  if (f > 0n) {
    // Go: uint64(float64(f) * (float64(unit) / scale)), truncated toward zero.
    v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
    if (v > LIMIT) return invalid;
  }
  return { ok: true, v, rest: rest.slice(i) };
}

/**
 * Parses a Go duration ("60s", "1h30m", "1.5h", "-2m", "0"): nanoseconds, or the error text
 * time.ParseDuration gives for the same input (unknown or missing unit, overflow past int64
 * nanoseconds). Like Go, the running sum is a uint64 (it can wrap at 2^64).
 */
export function parseGoDuration(text: string): DurationParse {
  const invalid = { ok: false as const, message: `time: invalid duration ${goTimeQuote(text)}` };
  let s = text;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, ns: 0n, ms: 0 };
  if (s === "") return invalid;
  let d = 0n;
  while (s !== "") {
    const p = parsePart(s, text);
    if (!p.ok) return p;
    d = (d + p.v) & U64;
    if (d > LIMIT) return invalid;
    s = p.rest;
  }
  if (!neg && d > I64_MAX) return invalid;
  const ns = neg ? -d : d;
  return { ok: true, ns, ms: Number(ns) / 1e6 };
}

/** Go's Duration.String(): "1h0m0s", "1.5s", "300ms", "1µs", "0s". */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    const [unit, size] =
      u < 1_000n ? ["ns", 1n] : u < 1_000_000n ? ["µs", 1_000n] : ["ms", 1_000_000n];
    out = `${fraction(u, size)}${unit}`;
  } else {
    const h = u / 3_600_000_000_000n;
    u %= 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u %= 60_000_000_000n;
    const s = `${fraction(u, 1_000_000_000n)}s`;
    out = h > 0n ? `${h}h${m}m${s}` : m > 0n ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

/** v / size with the fraction's trailing zeros dropped ("1.5", "2"). */
function fraction(v: bigint, size: bigint): string {
  const whole = v / size;
  const rest = v % size;
  if (rest === 0n) return String(whole);
  const digits = String(size).length - 1;
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
