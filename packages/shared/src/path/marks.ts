// What is known of a packet's 32-bit mark along one path: which bits are known and their
// values, plus tests known to fail. `-m mark --mark V/M` matches when (mark & M) == V
// (xt_mark); the MARK target sets mark = (mark & ~M) ^ V (`--set-xmark V/M`, which is how
// iptables prints --set-mark, --and-mark, --or-mark and --xor-mark too).

export interface MarkTest {
  value: number;
  mask: number;
}

export interface MarkState {
  /** Bits whose value is known. */
  known: number;
  /** Their values (bits outside `known` are 0). */
  value: number;
  /** Tests known not to match. */
  failing: readonly MarkTest[];
}

const ALL = 0xffffffff;
export const UNKNOWN_MARK: MarkState = { known: 0, value: 0, failing: [] };

export function knownMark(mark: number): MarkState {
  return { known: ALL, value: mark >>> 0, failing: [] };
}

function parseNumber(text: string): number | undefined {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 && n <= ALL ? n : undefined;
}

/**
 * `0x4000/0x4000` or `0x4000` (mask: all bits), as iptables prints marks. The value is kept as
 * written: a value with bits outside the mask never equals (mark & mask) (xt_mark, xt_connmark).
 */
export function parseMarkTest(text: string): MarkTest | undefined {
  const [v, m, extra] = text.split("/");
  if (extra !== undefined || v === undefined) return undefined;
  const value = parseNumber(v);
  const mask = m === undefined ? ALL : parseNumber(m);
  if (value === undefined || mask === undefined) return undefined;
  return { value: value >>> 0, mask: mask >>> 0 };
}

/**
 * A mark test in words for answers: "mark bit 0x4000 set" / "mark bit 0x4000 clear" for a
 * one-bit mask (kube-proxy's, Calico's marks), "mark 0x4000" / "mark not 0x4000" for a whole
 * mark, else iptables' own "mark 0x100/0xff00" (prefixed "! " when the test fails).
 */
export function markWords(t: MarkTest, holds: boolean): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  if (!markNeverMatches(t) && t.mask !== 0 && (t.mask & (t.mask - 1)) === 0) {
    const set = (t.value === t.mask) === holds;
    return `mark bit ${hex(t.mask)} ${set ? "set" : "clear"}`;
  }
  if (t.mask === ALL) return `mark ${holds ? "" : "not "}${hex(t.value)}`;
  return `${holds ? "" : "! "}mark ${hex(t.value)}/${hex(t.mask)}`;
}

/** True when no mark satisfies (mark & mask) == value: the value has bits outside the mask. */
export function markNeverMatches(t: MarkTest): boolean {
  return (t.value & ~t.mask) >>> 0 !== 0;
}

/** true/false when the known bits decide the test, undefined when they do not. */
export function decideMark(s: MarkState, t: MarkTest): boolean | undefined {
  if (markNeverMatches(t)) return false;
  if (((s.value ^ t.value) & t.mask & s.known) >>> 0 !== 0) return false;
  if ((t.mask & ~s.known) >>> 0 === 0) return true;
  if (s.failing.some((f) => f.value === t.value && f.mask === t.mask)) return false;
  return undefined;
}

/** The state on the branch where the test holds (or fails); null when that cannot be. */
export function assumeMark(s: MarkState, t: MarkTest, holds: boolean): MarkState | null {
  const d = decideMark(s, t);
  if (d !== undefined) return d === holds ? s : null;
  if (holds) {
    const known = (s.known | t.mask) >>> 0;
    return { known, value: ((s.value & ~t.mask) | t.value) >>> 0, failing: s.failing };
  }
  const unknownBits = (t.mask & ~s.known) >>> 0;
  // One unknown bit decides the test: on the failing branch it is the other value.
  if ((unknownBits & (unknownBits - 1)) === 0) {
    const known = (s.known | unknownBits) >>> 0;
    return {
      known,
      value: ((s.value | (~t.value & unknownBits)) & known) >>> 0,
      failing: s.failing,
    };
  }
  return { ...s, failing: [...s.failing, t] };
}

/** mark = (mark & ~mask) ^ value: bits in `mask` become known, known bits outside it flip. */
export function setXmark(s: MarkState, value: number, mask: number): MarkState {
  const known = (s.known | mask) >>> 0;
  const next = (((s.value & ~mask) ^ value) & known) >>> 0;
  const touched = (mask | value) >>> 0;
  return { known, value: next, failing: s.failing.filter((f) => (f.mask & touched) === 0) };
}

/** Bits restored from the connection mark (CONNMARK --restore-mark) become unknown again. */
export function forgetBits(s: MarkState, mask: number): MarkState {
  const known = (s.known & ~mask) >>> 0;
  return {
    known,
    value: (s.value & known) >>> 0,
    failing: s.failing.filter((f) => (f.mask & mask) === 0),
  };
}

export function formatMarkTest(t: MarkTest): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return t.mask === ALL ? hex(t.value) : `${hex(t.value)}/${hex(t.mask)}`;
}
