// Go time.ParseDuration, which upstream uses for resyncInterval ("60s", "1m30s", "1.5h").
const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const PART = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;

export type DurationParse = { ok: true; ms: number } | { ok: false; message: string };

/** Returns the duration in milliseconds, or the reason Go would reject it. */
export function parseGoDuration(text: string): DurationParse {
  const bad = (): DurationParse => ({ ok: false, message: `time: invalid duration "${text}"` });
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    sign = s.startsWith("-") ? -1 : 1;
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, ms: 0 };
  if (s === "") return bad();
  let ns = 0;
  while (s.length > 0) {
    const m = PART.exec(s);
    if (!m) return bad();
    const [all, num = "", unit = ""] = m;
    if (num === "" || num === ".") return bad();
    const factor = UNIT_NS[unit];
    if (factor === undefined) {
      return { ok: false, message: `time: unknown unit "${unit}" in duration "${text}"` };
    }
    ns += Number(num) * factor;
    s = s.slice(all.length);
  }
  return { ok: true, ms: (sign * ns) / 1e6 };
}
