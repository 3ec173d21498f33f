import { defaultConfig, type MasqConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { fleetIssue, type ModeNode, observeModeIssue } from "./fleet-guard.js";

const WITH = { ...defaultConfig(), masqueradeCIDRs: ["10.100.10.0/24"] } satisfies MasqConfig;
const node = (name: string, mode: ModeNode["mode"] = "observe"): ModeNode => ({ name, mode });

describe("observeModeIssue", () => {
  const tests: {
    desc: string;
    input: { config: MasqConfig; nodes: ModeNode[] };
    want: string | undefined;
  }[] = [
    {
      desc: "no exceptions: nothing to refuse",
      input: { config: defaultConfig(), nodes: [node("a")] },
      want: undefined,
    },
    {
      desc: "an empty list is no use of the key",
      input: { config: { ...WITH, masqueradeCIDRs: [] }, nodes: [node("a")] },
      want: undefined,
    },
    {
      desc: "every node enforces",
      input: { config: WITH, nodes: [node("a", "enforce")] },
      want: undefined,
    },
    {
      desc: "one node observes: named",
      input: { config: WITH, nodes: [node("b", "enforce"), node("a")] },
      want: "masqueradeCIDRs cannot be saved while a node is in observe mode (a): it runs beside the upstream ip-masq-agent, which ignores masqueradeCIDRs, so its rules would never have the exceptions and would show drift forever. Switch it to enforce mode, or remove masqueradeCIDRs",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(observeModeIssue(input.config, input.nodes)?.message).toBe(want);
  });

  it("names at most eight nodes, sorted, and counts the rest", () => {
    const nodes = Array.from({ length: 11 }, (_, i) => node(`n${String(i).padStart(2, "0")}`));
    expect(observeModeIssue(WITH, nodes)?.message).toContain(
      "while 11 nodes are in observe mode (n00, n01, n02, n03, n04, n05, n06, n07 and 3 more)",
    );
  });
});

describe("fleetIssue: Windows nodes and the equivalent list", () => {
  // Every other /24 of 10.0.0.0/15 masqueraded: the equivalent list is past the bound.
  const holes = Array.from({ length: 256 }, (_, i) => `10.${(i * 2) >> 8}.${(i * 2) & 255}.0/24`);
  const long: MasqConfig = { ...defaultConfig(), masqueradeCIDRs: holes, cidrLimit: 300 };
  const win = (name: string): ModeNode => ({ name, mode: "enforce", os: "windows" });

  it("refuses a list Windows nodes cannot take, naming them", () => {
    const issue = fleetIssue(long, [win("w1"), { name: "l1", mode: "enforce", os: "linux" }]);
    expect(issue?.message).toMatch(/cannot be applied on Windows.*\(Windows nodes: w1\)$/);
  });
  it("takes it without Windows nodes", () => {
    expect(fleetIssue(long, [{ name: "l1", mode: "enforce", os: "linux" }])).toBeUndefined();
  });
  it("takes a short equivalent list", () => {
    expect(fleetIssue(WITH, [win("w1")])).toBeUndefined();
  });
});
