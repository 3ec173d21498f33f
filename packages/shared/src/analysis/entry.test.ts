import { excMasq, masq, postroutingS, ret } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { type AgentEntry, entryInConfig, markEntriesNotInConfig } from "./entry.js";
import { evaluate } from "./evaluate.js";
import { analyzeFamily } from "./ruleset.js";

const node = (...rules: string[]) =>
  analyzeFamily({
    family: "ipv4",
    chain: "IP-MASQ-AGENT",
    chainText: ["-N IP-MASQ-AGENT", ...rules].join("\n"),
    postroutingText: postroutingS([postroutingS()[2]!]).join("\n"),
  });

const CHAIN = node(
  excMasq("10.100.10.0/24"),
  ret("169.254.0.0/16"),
  ret("10.0.0.0/8"),
  "-A IP-MASQ-AGENT -d 192.168.0.0/16 -p tcp -j RETURN",
  masq(),
);

describe("the config entry behind the deciding rule (why, the node page)", () => {
  const tests: { desc: string; input: string; want: string | undefined }[] = [
    {
      desc: "a masqueradeCIDRs exception",
      input: "10.100.10.2",
      want: "masqueradeCIDRs 10.100.10.0/24",
    },
    { desc: "a non-masquerade range", input: "10.100.11.2", want: "nonMasqueradeCIDRs 10.0.0.0/8" },
    {
      desc: "link-local",
      input: "169.254.169.254",
      want: "link-local 169.254.0.0/16 (masqLinkLocal is false)",
    },
    {
      desc: "the final MASQUERADE",
      input: "192.0.2.1",
      want: "no entry of nonMasqueradeCIDRs or masqueradeCIDRs contains it (the final MASQUERADE)",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const v = evaluate(CHAIN, input, { mark: 0 });
    if ("error" in v) throw new Error(v.error);
    expect(v.entry?.text).toBe(want);
  });

  it("a rule with other conditions stands for no config entry", () => {
    const v = evaluate(CHAIN, "192.168.1.1", { mark: 0, protocol: "tcp" });
    if ("error" in v) throw new Error(v.error);
    expect(v.masqueraded).toBe(false);
    expect(v.entry).toBeUndefined();
  });
});

describe("a rule added by hand stands for no config entry", () => {
  const HAND = node(ret("10.0.0.0/8"), "-A IP-MASQ-AGENT -d 100.64.0.0/10 -j RETURN", masq());

  it("no agent comment: the rule decides, but no entry is claimed", () => {
    const v = evaluate(HAND, "100.64.1.1", { mark: 0 });
    if ("error" in v) throw new Error(v.error);
    expect(v.masqueraded).toBe(false);
    expect(v.entry).toBeUndefined();
  });

  it("with the config at hand, an entry it does not list says so", () => {
    const v = evaluate(node(ret("100.64.0.0/10"), masq()), "100.64.1.1", { mark: 0 });
    if ("error" in v) throw new Error(v.error);
    const config = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] };
    expect(markEntriesNotInConfig(v, config).entry?.text).toBe(
      "nonMasqueradeCIDRs 100.64.0.0/10, which the config does not list",
    );
    expect(entryInConfig(v.entry!, { ...config, nonMasqueradeCIDRs: ["100.64.0.0/10"] })).toBe(
      true,
    );
  });
});

// An element of the agent's nftables set stands for the config entries merged into it (one
// interval for 10.0.0.0/9 and 10.128.0.0/9): listed when one of them lies inside it.
describe("an element of the agent's nftables set, against the config", () => {
  const element: AgentEntry = {
    list: "nonMasqueradeCIDRs",
    cidr: "10.0.0.0/8",
    set: "@nonmasq_v4",
    text: "nonMasqueradeCIDRs 10.0.0.0/8 (element of @nonmasq_v4)",
  };
  const linkLocal: AgentEntry = { ...element, list: "link-local", cidr: "169.254.0.0/16" };
  const cases: { desc: string; input: [AgentEntry, string[], boolean?]; want: boolean }[] = [
    { desc: "the entry as written", input: [element, ["10.0.0.0/8"]], want: true },
    {
      desc: "two entries merged into it",
      input: [element, ["10.0.0.0/9", "10.128.0.0/9"]],
      want: true,
    },
    { desc: "none inside it", input: [element, ["192.168.0.0/16"]], want: false },
    { desc: "a wider entry only (not this element)", input: [element, ["0.0.0.0/0"]], want: false },
    { desc: "link-local while masqLinkLocal is false", input: [linkLocal, [], false], want: true },
    { desc: "link-local while masqLinkLocal is true", input: [linkLocal, [], true], want: false },
  ];
  it.each(cases)("$desc", ({ input: [entry, cidrs, masqLinkLocal], want }) => {
    const config = {
      ...defaultConfig(),
      nonMasqueradeCIDRs: cidrs,
      masqLinkLocal: !!masqLinkLocal,
    };
    expect(entryInConfig(entry, config)).toBe(want);
  });
});
