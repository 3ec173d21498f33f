import { describe, expect, it } from "vitest";
import { branchLabel } from "./branch-label";

describe("branchLabel", () => {
  it.each([
    {
      desc: "a branch with conditions says them",
      branch: { when: ["source in 10.0.0.0/24", "mark bit 0x4000 clear"] },
      group: [{ when: ["source in 10.0.0.0/24"] }, { when: [] }],
      want: "If source in 10.0.0.0/24 and mark bit 0x4000 clear",
    },
    {
      desc: "a branch without conditions after others: the rest of the group",
      branch: { when: [] },
      group: [{ when: ["source in 10.0.0.0/24"] }, { when: [] }],
      want: "Otherwise",
    },
    {
      // A new user's find: on every kube-proxy node the tester's "Unmarked packets: not
      // masqueraded" group had one branch, labelled "Otherwise:" with nothing before it.
      desc: "the only branch of its group: every packet of the group",
      branch: { when: [] },
      group: [{ when: [] }],
      want: "Every such packet",
    },
  ])("$desc", ({ branch, group, want }) => {
    expect(branchLabel(branch, group)).toBe(want);
  });
});
