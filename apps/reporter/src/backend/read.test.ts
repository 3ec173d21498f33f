import { describe, expect, it } from "vitest";
import { classifyChainRead, jumpsTo, ruleLines } from "./read.js";

const r = (code: number, stdout: string, stderr = "") => ({
  code,
  stdout,
  stderr,
  timedOut: false,
});

describe("classifyChainRead", () => {
  it("returns rule lines on success, dropping warnings", () => {
    expect(
      classifyChainRead(r(0, "# Warning: iptables-legacy tables present\n-N X\n-A X -j RETURN\n")),
    ).toEqual({ kind: "ok", lines: ["-N X", "-A X -j RETURN"] });
  });
  it("reads the nf_tables message for a missing chain as missing (ambiguous)", () => {
    const c = classifyChainRead(
      r(
        1,
        "",
        "iptables v1.8.9 (nf_tables): chain `NOPE' in table `nat' is incompatible, use 'nft' tool.\n",
      ),
    );
    expect(c).toMatchObject({ kind: "missing", ambiguous: true });
  });
  it("a table iptables cannot show (table `nat' is incompatible) is a read error, not a missing chain", () => {
    const c = classifyChainRead(
      r(1, "", "iptables v1.8.7 (nf_tables): table `nat' is incompatible, use 'nft' tool.\n"),
    );
    expect(c).toEqual({
      kind: "error",
      message: "iptables v1.8.7 (nf_tables): table `nat' is incompatible, use 'nft' tool.",
    });
  });
  it("reads the legacy message as missing (unambiguous)", () => {
    expect(
      classifyChainRead(r(1, "", "iptables: No chain/target/match by that name.\n")),
    ).toMatchObject({ kind: "missing", ambiguous: false });
  });
  it("treats anything else as an error with its first line", () => {
    expect(
      classifyChainRead(
        r(
          3,
          "-N FOO\n",
          "Error: meta sreg key not supported\niptables v1.8.9 (nf_tables): Parsing nftables rule failed\n",
        ),
      ),
    ).toEqual({
      kind: "error",
      message: "Error: meta sreg key not supported",
    });
    expect(
      classifyChainRead(r(4, "", "Another app is currently holding the xtables lock.\n")).kind,
    ).toBe("error");
    expect(classifyChainRead(r(124, "", ""))).toEqual({ kind: "error", message: "exit code 124" });
  });
});

describe("jumpsTo", () => {
  const post = [
    "-P POSTROUTING ACCEPT",
    "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
  ];
  it("finds a jump or goto", () => {
    expect(jumpsTo(post, "IP-MASQ-AGENT")).toBe(true);
    expect(jumpsTo(["-A POSTROUTING -g MY.CHAIN"], "MY.CHAIN")).toBe(true);
  });
  it("does not match a longer chain name or another character in place of the dot", () => {
    expect(jumpsTo(["-A POSTROUTING -j IP-MASQ-AGENT-2"], "IP-MASQ-AGENT")).toBe(false);
    expect(jumpsTo(["-A POSTROUTING -j MYXCHAIN"], "MY.CHAIN")).toBe(false);
  });
});

describe("ruleLines / classifyChainRead", () => {
  it("keeps long lines whole: a cut rule would be another rule", () => {
    expect(ruleLines(`-A X ${"a".repeat(5000)}\n`)[0]).toHaveLength(5005);
  });
  it("a chain with a line longer than a snapshot carries is not fully read: an error", () => {
    const r = classifyChainRead(
      { code: 0, stdout: `-A X ${"a".repeat(5000)}\n`, stderr: "", timedOut: false },
      "X",
    );
    expect(r).toEqual({
      kind: "error",
      message:
        "a rule of X is 5005 characters, more than the 4096 a snapshot carries: X was not fully read",
    });
  });
});
