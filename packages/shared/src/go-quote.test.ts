import { describe, expect, it } from "vitest";
import { goQuote, goTimeQuote } from "./go-quote.js";

// Go's strconv.Quote and the time package's quote (src/time/format.go).
const tests: { desc: string; input: string; want: [string, string] }[] = [
  { desc: "plain", input: "10.0.0.0/8", want: ['"10.0.0.0/8"', '"10.0.0.0/8"'] },
  { desc: "empty", input: "", want: ['""', '""'] },
  { desc: "quote and backslash", input: 'a"b\\', want: ['"a\\"b\\\\"', '"a\\"b\\\\"'] },
  { desc: "tab and newline", input: "a\tb\n", want: ['"a\\tb\\n"', '"a\\x09b\\x0a"'] },
  { desc: "other control", input: "\u0001", want: ['"\\x01"', '"\\x01"'] },
  { desc: "DEL", input: "\u007f", want: ['"\\x7f"', '"\u007f"'] },
  { desc: "printable non-ASCII", input: "µs", want: ['"µs"', '"\\xc2\\xb5s"'] },
  { desc: "non-printable non-ASCII", input: "\u00a0", want: ['"\\u00a0"', '"\\xc2\\xa0"'] },
];

describe("Go quoting", () => {
  for (const { desc, input, want } of tests) {
    it(desc, () => expect([goQuote(input), goTimeQuote(input)]).toEqual(want));
  }
});
