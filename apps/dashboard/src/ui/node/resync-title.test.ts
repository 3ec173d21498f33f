import { describe, expect, it } from "vitest";
import { resyncTitle } from "./resync-title";

const OTHERS = "what differs is only other components' rules on the path";

describe("resyncTitle", () => {
  const on = { canEdit: true, offline: false, subject: "node-a" };
  const cases: {
    desc: string;
    input: { node: Parameters<typeof resyncTitle>[0]; o?: Partial<typeof on> };
    want: string;
  }[] = [
    {
      desc: "a resync heals it",
      input: { node: {} },
      want: "Re-apply the desired rules on node-a",
    },
    {
      desc: "drifted only in rules a resync never rewrites: says it stays drifted, and why",
      input: { node: { resyncCannotHeal: OTHERS }, o: { subject: "this node" } },
      want: `Re-apply the agent's rules on this node; it stays drifted: ${OTHERS}`,
    },
    {
      desc: "the dashboard cannot resync it: that first",
      input: { node: { resyncUnavailable: "observe mode", resyncCannotHeal: OTHERS } },
      want: "Cannot resync: observe mode",
    },
    { desc: "offline", input: { node: {}, o: { offline: true } }, want: "The node is offline" },
    {
      desc: "a viewer",
      input: { node: {}, o: { canEdit: false } },
      want: "Only editors can resync",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(resyncTitle(input.node, { ...on, ...input.o })).toBe(want);
  });
});
