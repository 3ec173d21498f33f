import { describe, expect, it } from "vitest";
import { OfflineSuspects, RECONNECT_GRACE_MS } from "./staged-offline.js";

describe("OfflineSuspects.judge", () => {
  const cases: {
    desc: string;
    input: { of: string | null; after: number; connected: boolean };
    want: { reasons: string[]; left: number };
  }[] = [
    {
      desc: "within the grace, still offline: waited for",
      input: { of: "2", after: RECONNECT_GRACE_MS - 1, connected: false },
      want: { reasons: [], left: 1 },
    },
    {
      desc: "after the grace, still offline everywhere: pauses the rollout",
      input: { of: "2", after: RECONNECT_GRACE_MS, connected: false },
      want: { reasons: ["n-1 went offline 2 s after applying"], left: 0 },
    },
    {
      desc: "connected again (here or to another replica) within the grace: dropped",
      input: { of: "2", after: 1000, connected: true },
      want: { reasons: [], left: 0 },
    },
    {
      desc: "the rollout it went offline in was replaced: dropped",
      input: { of: "3", after: RECONNECT_GRACE_MS, connected: false },
      want: { reasons: [], left: 0 },
    },
    {
      desc: "no rollout to pause (finished, or followed here): dropped",
      input: { of: null, after: RECONNECT_GRACE_MS, connected: false },
      want: { reasons: [], left: 0 },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const s = new OfflineSuspects();
    s.add("n-1", "n-1 went offline 2 s after applying", "2", 1000);
    s.add("n-1", "a second disconnect does not restart the grace", "2", 5000);
    const reasons = s.judge(input.of, 1000 + input.after, () => input.connected);
    expect(reasons).toEqual(want.reasons);
    expect(s.size).toBe(want.left);
  });

  it("says which nodes hold the waves back, the first three by name", () => {
    const s = new OfflineSuspects();
    expect(s.message()).toBeNull();
    for (const n of ["a", "b", "c", "d", "e"]) s.add(n, `${n} went offline`, "2", 0);
    expect(s.message()).toBe(
      "No wave goes on for up to 15 s: a, b, c and 2 more went offline right after applying, and may be reconnecting to another replica",
    );
  });
});
