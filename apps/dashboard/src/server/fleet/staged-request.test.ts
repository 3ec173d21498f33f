import { describe, expect, it } from "vitest";
import { requesterOf, requestToPerform } from "./staged-request.js";
import type { StagedState } from "./staged-state.js";

const s = { resourceVersion: "7" } as StagedState;
const req = {
  id: "r-1",
  action: "promote",
  user: "bob",
  via: "dash-b",
  resourceVersion: "7",
  at: 1,
};

describe("requestToPerform", () => {
  const cases: {
    desc: string;
    input: { raw: unknown; s: StagedState | null; performed?: string[] };
    want: string;
  }[] = [
    {
      desc: "a request about the current rollout: performed",
      input: { raw: req, s },
      want: "perform",
    },
    {
      desc: "already performed (its id is the state's last): not again",
      input: { raw: req, s, performed: ["r-0", "r-1", "r-2"] },
      want: "already performed",
    },
    {
      desc: "about an earlier rollout: not performed",
      input: { raw: { ...req, resourceVersion: "6" }, s },
      want: "about another rollout than the current one",
    },
    {
      desc: "no rollout: not performed",
      input: { raw: req, s: null },
      want: "about another rollout than the current one",
    },
    {
      desc: "an action that is no move: refused",
      input: { raw: { ...req, action: "delete" }, s },
      want: "not a move request",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const r = requestToPerform(input.raw, input.s, input.performed ?? []);
    expect(r.ok ? "perform" : r.why).toBe(want);
  });

  it("says who asked, and where", () => {
    expect(requesterOf({ ...req, action: "promote" })).toBe("bob (via replica dash-b)");
  });
});
