import { describe, expect, it } from "vitest";
import { actionRefused, saveRefused, stagedRefusalOf } from "./staged-scope.js";

describe("stagedRefusalOf", () => {
  const cases = [
    { desc: "alone: waves may run", input: [] as string[], want: null },
    {
      desc: "Leases not listed yet: not known, refused",
      input: null,
      want: "this replica has not listed the dashboard replicas' Leases yet, so it cannot tell whether other replicas push changes to nodes too",
    },
    {
      desc: "others, with the singleton Lease electing the rollout's owner: waves may run",
      input: ["dash-b"],
      want: null,
    },
    {
      desc: "one other replica, no leader election: no owner, refused",
      input: ["dash-b"],
      elected: false,
      want: "dashboard replica dash-b is active too and no singleton Lease elects one replica to own the rollout (leader election is off), so waves run by one replica would not hold the change back from the others' nodes",
    },
    {
      desc: "many without an owner: five named, the rest counted",
      input: ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
      elected: false,
      want: "dashboard replicas r1, r2, r3, r4, r5 and 2 more are active too and no singleton Lease elects one replica to own the rollout (leader election is off), so waves run by one replica would not hold the change back from the others' nodes",
    },
  ];
  for (const { desc, input, want, elected } of cases as {
    desc: string;
    input: string[] | null;
    want: string | null;
    elected?: boolean;
  }[])
    it(desc, () => expect(stagedRefusalOf(input, elected)).toBe(want));
});

describe("refusal answers", () => {
  it("a save says nothing was saved and what to do instead", () => {
    expect(saveRefused("why")).toBe(
      "a staged rollout is refused: why. Nothing was saved; roll out all at once, or run one dashboard replica (dashboard.replicas: 1) to roll out in waves",
    );
  });
  it("a move names the revision to roll back to, or none when unknown", () => {
    expect(actionRefused("abort", "why", 4)).toMatch(/roll back to revision 4 all at once;/);
    expect(actionRefused("abort", "why", undefined)).toMatch(/, roll back all at once;/);
  });
});
