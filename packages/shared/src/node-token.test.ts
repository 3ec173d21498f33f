import { describe, expect, it } from "vitest";
import { nodeToken, verifyNodeToken } from "./node-token.js";

const secret = "Zq0m3Lr9Yx2Tc7Vb5Nk1Wp8Hs4Dg6Fj0Qa2Ue9Ry3Io";

describe("node tokens", () => {
  it("binds a token to its node name", () => {
    const t = nodeToken(secret, "node-a.example");
    expect(t).toMatch(/^node-a\.example\.[A-Za-z0-9_-]{43}$/);
    expect(verifyNodeToken(secret, t)).toBe("node-a.example");
    expect(nodeToken(secret, "node-a.example")).toBe(t);
  });

  const cases: { desc: string; input: () => string; want: string | undefined }[] = [
    {
      desc: "another node's name with this node's MAC",
      input: () => `node-b.${nodeToken(secret, "node-a").split(".")[1]}`,
      want: undefined,
    },
    {
      desc: "a token made with another secret",
      input: () => nodeToken("other", "node-a"),
      want: undefined,
    },
    { desc: "the secret itself", input: () => secret, want: undefined },
    { desc: "no MAC", input: () => "node-a.", want: undefined },
    { desc: "no name", input: () => `.${nodeToken(secret, "a").split(".")[1]}`, want: undefined },
    {
      desc: "a truncated MAC",
      input: () => nodeToken(secret, "node-a").slice(0, -2),
      want: undefined,
    },
    { desc: "a name that is not a node name", input: () => "Node_A.abc", want: undefined },
    { desc: "the right token", input: () => nodeToken(secret, "node-a"), want: "node-a" },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(verifyNodeToken(secret, input())).toBe(want);
  });

  it("refuses to issue a token for a name that is not a node name, or without a secret", () => {
    expect(() => nodeToken(secret, "Node_A")).toThrow(/not a node name/);
    expect(() => nodeToken("", "node-a")).toThrow(/secret is empty/);
  });
});
