import { describe, expect, it } from "vitest";
import { rolloutActionsSummary } from "../history/rollout-summary";
import { plural } from "./plural";

describe("plural", () => {
  it.each([
    [0, "0 actions"],
    [1, "1 action"],
    [2, "2 actions"],
  ])("%d", (n, want) => expect(plural(n, "action")).toBe(want));

  it("an irregular plural and a formatted count", () => {
    expect(plural(1, "entry", "entries")).toBe("1 entry");
    expect(plural(3, "entry", "entries")).toBe("3 entries");
    expect(plural(1200, "node", "nodes", "1,200")).toBe("1,200 nodes");
  });
});

describe("the History rollout line", () => {
  it.each([
    [1, "Rollout: paused (1 action)"],
    [3, "Rollout: paused (3 actions)"],
  ])("%d actions", (n, want) => {
    const actions = Array.from({ length: n }, () => ({
      action: "pause",
      user: "u",
      time: "t",
      detail: "",
    }));
    expect(rolloutActionsSummary({ phase: "paused", aborted: false, actions } as never)).toBe(want);
  });
});
