import { defaultConfig, type MasqConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { type ModeNode, observeModeIssue } from "./observe-guard.js";

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
