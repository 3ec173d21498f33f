import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { assertStrongSecrets, secretProblem } from "./secret-strength.js";

describe("secretProblem", () => {
  const cases: { desc: string; input: string; want: RegExp | undefined }[] = [
    { desc: "one character", input: "a", want: /too short \(1 characters/ },
    { desc: "a word", input: "admin-secret-token", want: /too short/ },
    { desc: "31 characters", input: randomBytes(32).toString("hex").slice(0, 31), want: /short/ },
    { desc: "one character repeated", input: "x".repeat(40), want: /1-character pattern/ },
    { desc: "a word repeated", input: "password".repeat(5), want: /8-character pattern/ },
    { desc: "a pattern with a partial tail", input: `${"abc12".repeat(7)}ab`, want: /5-char/ },
    {
      desc: "a long run with a few other characters",
      input: `${"a".repeat(30)}bcdefg`,
      want: /too little variety/,
    },
    { desc: "whitespace", input: `${randomBytes(32).toString("base64")} x`, want: /whitespace/ },
    { desc: "openssl rand -base64 32", input: randomBytes(32).toString("base64"), want: undefined },
    { desc: "openssl rand -hex 16", input: randomBytes(16).toString("hex"), want: undefined },
    { desc: "a UUID", input: randomUUID(), want: undefined },
    {
      desc: "a generated base64url token",
      input: randomBytes(32).toString("base64url"),
      want: undefined,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const got = secretProblem(input);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(want);
  });

  it("judges a 16 KiB token in linear time (no quadratic pattern search)", () => {
    expect(secretProblem(`${"ab".repeat(8191)}c`)).toMatch(/too little variety/);
  });
});

describe("assertStrongSecrets", () => {
  const strong = () => randomBytes(32).toString("base64");

  it("accepts distinct strong tokens and skips unset ones", () => {
    expect(() =>
      assertStrongSecrets([
        { name: "IPMASQ_ADMIN_TOKEN", value: strong() },
        { name: "IPMASQ_VIEWER_TOKEN", value: undefined },
        { name: "IPMASQ_REPORTER_TOKEN", value: strong() },
      ]),
    ).not.toThrow();
  });

  it("names every weak token and shared token, and says how to make good ones", () => {
    const same = strong();
    const run = () =>
      assertStrongSecrets([
        { name: "IPMASQ_ADMIN_TOKEN", value: same },
        { name: "IPMASQ_VIEWER_TOKEN", value: "v" },
        { name: "IPMASQ_REPORTER_TOKEN", value: same },
      ]);
    expect(run).toThrow(/IPMASQ_VIEWER_TOKEN is too short/);
    expect(run).toThrow(/IPMASQ_ADMIN_TOKEN and IPMASQ_REPORTER_TOKEN are the same token/);
    expect(run).toThrow(/openssl rand -base64 32.*head -c 32 \/dev\/urandom \| base64/);
  });
});
