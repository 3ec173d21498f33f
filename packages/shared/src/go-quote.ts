// Go's two ways of quoting a string in error texts, so quoted upstream errors read exactly as
// upstream logs them: strconv.Quote (fmt's %q, used by ip-masq-agent's CIDR errors) and the
// time package's own quote (time.ParseDuration errors).

const utf8 = new TextEncoder();
const hex2 = (b: number) => b.toString(16).padStart(2, "0");
const SHORT_ESCAPES: Record<number, string> = {
  7: "\\a",
  8: "\\b",
  9: "\\t",
  10: "\\n",
  11: "\\v",
  12: "\\f",
  13: "\\r",
};
/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** One character as strconv.Quote writes it (a surrogate half is never printable). */
function quoteRune(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (ch === '"' || ch === "\\") return `\\${ch}`;
  if (c >= 0x20 && c < 0x7f) return ch;
  if (SHORT_ESCAPES[c]) return SHORT_ESCAPES[c];
  if (c < 0x80) return `\\x${hex2(c)}`;
  if (PRINTABLE.test(ch) && !(c >= 0xd800 && c <= 0xdfff)) return ch;
  if (c < 0x10000) return `\\u${c.toString(16).padStart(4, "0")}`;
  return `\\U${c.toString(16).padStart(8, "0")}`;
}

/** strconv.Quote(s): `"` + s with Go escapes + `"`. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch);
  return `${out}"`;
}

/** The time package's quote(s): non-ASCII and control characters as \x bytes of their UTF-8. */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of utf8.encode(ch)) out += `\\x${hex2(b)}`;
    } else out += ch === '"' || ch === "\\" ? `\\${ch}` : ch;
  }
  return `${out}"`;
}
