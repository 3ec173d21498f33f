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

/** strconv.Quote(s): `"` + s with Go escapes + `"`. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (SHORT_ESCAPES[c]) out += SHORT_ESCAPES[c];
    else if (c < 0x80) out += `\\x${hex2(c)}`;
    else if (PRINTABLE.test(ch) && !(c >= 0xd800 && c <= 0xdfff)) out += ch;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += `\\U${c.toString(16).padStart(8, "0")}`;
  }
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
