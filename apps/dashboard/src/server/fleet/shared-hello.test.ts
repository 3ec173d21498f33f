import { DEFAULT_FLAGS, type Hello, PROTOCOL_VERSION } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { sharedHello } from "./shared-hello.js";

const hello = (over: Partial<Hello> = {}): Hello => ({
  type: "hello",
  v: PROTOCOL_VERSION,
  node: "node-1",
  os: "linux",
  kernel: "6.1.0-28-amd64",
  iptablesVersion: "v1.8.9 (nf_tables)",
  backend: "nf_tables",
  ruleBackends: ["nf_tables"],
  randomFullySupported: true,
  mode: "enforce",
  flags: { ...DEFAULT_FLAGS },
  reporterVersion: "0.1.0",
  appliedRevision: 3,
  ...over,
});

describe("sharedHello", () => {
  const cases: { desc: string; input: Hello; want: Hello }[] = [
    { desc: "a Linux hello says what it said", input: hello(), want: hello() },
    {
      desc: "without ruleBackends it stays without",
      input: hello({ ruleBackends: undefined }),
      want: hello({ ruleBackends: undefined }),
    },
    {
      desc: "other flags are kept",
      input: hello({ flags: { ...DEFAULT_FLAGS, masqChain: "OTHER-CHAIN", randomFully: false } }),
      want: hello({ flags: { ...DEFAULT_FLAGS, masqChain: "OTHER-CHAIN", randomFully: false } }),
    },
    {
      desc: "a Windows hello",
      input: hello({ os: "windows", backend: "cni", iptablesVersion: "", kernel: "10.0" }),
      want: hello({ os: "windows", backend: "cni", iptablesVersion: "", kernel: "10.0" }),
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const got = sharedHello(input);
      expect(got).toStrictEqual(want);
      expect(Object.keys(got)).toEqual(Object.keys(want));
    });

  it("two nodes with equal flags and versions hold one copy of them", () => {
    const a = sharedHello(hello({ node: "a" }));
    const b = sharedHello(hello({ node: "b" }));
    expect(b.flags).toBe(a.flags);
    expect(b.ruleBackends).toBe(a.ruleBackends);
    expect(a.node).toBe("a");
    expect(b.node).toBe("b");
  });

  it("never shares flags that differ", () => {
    const a = sharedHello(hello({ flags: { ...DEFAULT_FLAGS, enableIPv6: true } }));
    const b = sharedHello(hello({ flags: { ...DEFAULT_FLAGS, enableIPv6: false } }));
    expect(a.flags.enableIPv6).toBe(true);
    expect(b.flags.enableIPv6).toBe(false);
  });

  it("stays right past the pool's size", () => {
    for (let i = 0; i < 3000; i++) {
      const want = hello({ kernel: `k${i}`, flags: { ...DEFAULT_FLAGS, masqChain: `C${i}` } });
      expect(sharedHello(want)).toStrictEqual(want);
    }
  });
});
