import { describe, expect, it } from "vitest";
import { loginUrl, readCookie } from "../api/client";
import { safeNext } from "./next";

describe("safeNext", () => {
  const origin = "https://dash.example:8443";
  const cases: { desc: string; input: string | null; want: string }[] = [
    { desc: "a page", input: "/config", want: "/config" },
    { desc: "a page with a query", input: "/nodes/a?x=1", want: "/nodes/a?x=1" },
    { desc: "a fragment", input: "/history#r3", want: "/history#r3" },
    { desc: "nothing", input: null, want: "/" },
    { desc: "an absolute URL", input: "https://evil.example/", want: "/" },
    { desc: "a scheme", input: "javascript:alert(1)", want: "/" },
    { desc: "a protocol-relative URL", input: "//evil.example/", want: "/" },
    { desc: "a backslash", input: "/\\evil.example", want: "/" },
    // The example: ?next=/%09/evil.example/c decodes to "/<TAB>/evil.example/c".
    { desc: "a tab the browser drops", input: "/\t/evil.example/c", want: "/" },
    { desc: "a newline", input: "/\n/evil.example", want: "/" },
    { desc: "a carriage return", input: "/\r/evil.example", want: "/" },
    { desc: "tab and backslash", input: "/\t\\evil.example", want: "/" },
    { desc: "a relative path", input: "config", want: "/" },
    { desc: "the login page", input: "/login", want: "/" },
    { desc: "the login page with a query", input: "/login?next=/x", want: "/" },
    {
      desc: "an encoded slash stays a path here",
      input: "/%2F/evil.example",
      want: "/%2F/evil.example",
    },
    { desc: "dot segments are resolved", input: "/a/../config", want: "/config" },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(safeNext(input, origin)).toBe(want);
  });

  it("follows what URLSearchParams decodes from the query string", () => {
    const next = new URLSearchParams("?next=/%09/evil.example/c").get("next");
    expect(safeNext(next, origin)).toBe("/");
  });
});

describe("cookies and login url", () => {
  it("reads the CSRF cookie", () => {
    expect(readCookie("a=1; ipmasq_csrf=abc%3D; b=2", "ipmasq_csrf")).toBe("abc=");
    expect(readCookie("a=1", "ipmasq_csrf")).toBeUndefined();
  });
  it("keeps where the user was", () => {
    expect(loginUrl("/config")).toBe("/login?next=%2Fconfig");
    expect(loginUrl("/")).toBe("/login");
    expect(loginUrl("/login?next=x")).toBe("/login");
    expect(loginUrl("/config", "evicted")).toBe("/login?next=%2Fconfig&ended=evicted");
    expect(loginUrl("/", "expired")).toBe("/login?ended=expired");
  });
});
