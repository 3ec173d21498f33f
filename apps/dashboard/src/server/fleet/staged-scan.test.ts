import { describe, expect, it } from "vitest";
import { PendingScan } from "./staged-scan.js";
import type { NodeOutcome, StagedState } from "./staged-state.js";

const state = (waves: string[][], step: number) =>
  ({ waves, core: { step } }) as unknown as StagedState;

describe("PendingScan", () => {
  it("null while a released node is pending; then the failures of the released waves", () => {
    const s = state([["a"], ["b", "c"], ["d"]], 1);
    const o = new Map<string, NodeOutcome>([
      ["a", "applied"],
      ["b", "failed"],
      ["c", "pending"],
      ["d", "pending"], // not released
    ]);
    const scan = new PendingScan();
    expect(scan.countFailed(s, (n) => o.get(n)!)).toBeNull();
    o.set("c", "applied");
    expect(scan.countFailed(s, (n) => o.get(n)!)).toBe(1);
  });

  it("resumes where it found a pending node: the nodes before are not asked again", () => {
    const names = Array.from({ length: 100 }, (_, i) => `n-${i}`);
    const s = state([names], 0);
    const o = new Map<string, NodeOutcome>(names.map((n) => [n, "pending"]));
    const scan = new PendingScan();
    let asked = 0;
    const outcome = (n: string) => {
      asked++;
      return o.get(n)!;
    };
    for (const n of names) {
      o.set(n, "applied");
      scan.countFailed(s, outcome);
    }
    // Linear: each settle asks the next node (and the last pass counts all once).
    expect(asked).toBeLessThan(4 * names.length);
  });
});
