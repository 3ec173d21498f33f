import { describe, expect, it } from "vitest";
import { loginUrl, readCookie } from "../api/client";
import { safeNext } from "./next";

describe("safeNext", () => {
  it("follows same-site paths only", () => {
    expect(safeNext("/config")).toBe("/config");
    expect(safeNext("/nodes/a?x=1")).toBe("/nodes/a?x=1");
    expect(safeNext(null)).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("/login")).toBe("/");
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
  });
});
