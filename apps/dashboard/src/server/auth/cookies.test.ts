import { describe, expect, it } from "vitest";
import { type CookieOptions, parseCookies, serializeCookie } from "./cookies.js";

describe("parseCookies", () => {
  const cases: { desc: string; input: string | undefined; want: [string, string][] }[] = [
    { desc: "no header", input: undefined, want: [] },
    { desc: "empty header", input: "", want: [] },
    { desc: "one cookie", input: "ipmasq_session=abc", want: [["ipmasq_session", "abc"]] },
    {
      desc: "several, spaces trimmed",
      input: " a=1 ;b=2;  c = 3 ",
      want: [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ],
    },
    { desc: "the first of a repeated name wins", input: "a=1; a=2", want: [["a", "1"]] },
    { desc: "values are percent-decoded", input: "a=x%20y%3D", want: [["a", "x y="]] },
    { desc: "a malformed escape is kept as sent", input: "a=%E0%A4%A", want: [["a", "%E0%A4%A"]] },
    { desc: "an = inside the value stays", input: "a=b=c", want: [["a", "b=c"]] },
    { desc: "an empty value", input: "a=", want: [["a", ""]] },
    { desc: "parts without a name are skipped", input: "=x; novalue; b=2", want: [["b", "2"]] },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect([...parseCookies(input)]).toEqual(want);
  });
});

describe("serializeCookie", () => {
  const cases: {
    desc: string;
    input: { name: string; value: string; o: CookieOptions };
    want: string;
  }[] = [
    {
      desc: "a session cookie: httpOnly, Secure, lifetime",
      input: { name: "s", value: "abc", o: { httpOnly: true, secure: true, maxAge: 3600 } },
      want: "s=abc; Path=/; SameSite=Strict; HttpOnly; Secure; Max-Age=3600",
    },
    {
      desc: "a CSRF cookie scripts can read, over plain HTTP",
      input: { name: "c", value: "t", o: { httpOnly: false, secure: false } },
      want: "c=t; Path=/; SameSite=Strict",
    },
    {
      desc: "deleting: Max-Age=0",
      input: { name: "s", value: "", o: { httpOnly: true, secure: false, maxAge: 0 } },
      want: "s=; Path=/; SameSite=Strict; HttpOnly; Max-Age=0",
    },
    {
      desc: "values are percent-encoded",
      input: { name: "s", value: "a b;c", o: { httpOnly: true, secure: false } },
      want: "s=a%20b%3Bc; Path=/; SameSite=Strict; HttpOnly",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(serializeCookie(input.name, input.value, input.o)).toBe(want);
  });

  it("round-trips any value through parseCookies", () => {
    for (const value of ["plain", "a b;c=d", "é✓", "%41"]) {
      const header = serializeCookie("n", value, { httpOnly: true, secure: false }).split(";")[0];
      expect(parseCookies(header).get("n")).toBe(value);
    }
  });
});
