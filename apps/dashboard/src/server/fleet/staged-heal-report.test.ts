import { describe, expect, it } from "vitest";
import { HealReports, healedDriftSchema, MAX_HEAL_CHARS } from "./staged-heal-report.js";

const AT = Date.UTC(2026, 11, 3, 10, 0, 0);

describe("HealReports: heals on nodes held here, for the staged rollout's owner", () => {
  it("keeps the newest per node, its text bounded, in the status's shape", () => {
    const r = new HealReports();
    r.note("node-1", "7", "first", AT);
    r.note("node-1", "7", "x".repeat(MAX_HEAL_CHARS + 10), AT + 1000);
    const got = r.of("node-1")!;
    expect(got.message).toHaveLength(MAX_HEAL_CHARS);
    expect(got).toMatchObject({ rollout: "7", at: "2026-12-03T10:00:01.000Z" });
    expect(healedDriftSchema.safeParse(got).success).toBe(true);
    expect(r.of("node-2")).toBeUndefined();
  });

  const cases: {
    desc: string;
    input: { rollout: string | null; failed: string[] };
    want: { dropped: string[]; kept: string[] };
  }[] = [
    {
      desc: "the owner has not taken them: kept",
      input: { rollout: "7", failed: [] },
      want: { dropped: [], kept: ["a", "b"] },
    },
    {
      desc: "the owner counts one failed: that one taken",
      input: { rollout: "7", failed: ["a"] },
      want: { dropped: ["a"], kept: ["b"] },
    },
    {
      desc: "another rollout runs: every one dropped",
      input: { rollout: "9", failed: [] },
      want: { dropped: ["a", "b"], kept: [] },
    },
    {
      desc: "none runs (finished, or none): every one dropped",
      input: { rollout: null, failed: [] },
      want: { dropped: ["a", "b"], kept: [] },
    },
  ];
  for (const { desc, input, want } of cases)
    it(`settle: ${desc}`, () => {
      const r = new HealReports();
      r.note("a", "7", "healed", AT);
      r.note("b", "7", "healed", AT);
      expect(r.settle(input.rollout, (n) => input.failed.includes(n))).toEqual(want.dropped);
      expect(["a", "b"].filter((n) => r.of(n))).toEqual(want.kept);
    });

  it("clear hands every report over (the replica owns the rollout now)", () => {
    const r = new HealReports();
    r.note("a", "7", "healed", AT);
    expect(r.clear().map(([n]) => n)).toEqual(["a"]);
    expect(r.of("a")).toBeUndefined();
  });
});
