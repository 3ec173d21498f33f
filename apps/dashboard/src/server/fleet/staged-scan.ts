// Is every released node of a staged rollout settled (applied or failed), and how many failed?
// Asked at every apply and NodeMasquerade change, so the scan resumes where it last found a
// pending node (nodes settle in about the order they were sent): a scan from the start each
// time was quadratic (35 s for a canary of 10,000 nodes).
import type { NodeOutcome, StagedState } from "./staged-state.js";

type At = { w: number; i: number };

export class PendingScan {
  /** Where the last scan found a pending released node (of that state and step). */
  private at: { of: StagedState; step: number; w: number; i: number } | null = null;

  /** Failed nodes of the released waves; null while one is pending. */
  countFailed(s: StagedState, outcome: (name: string) => NodeOutcome): number | null {
    const step = s.core.step;
    const c = this.at;
    const from = c && c.of === s && c.step === step ? c : { w: 0, i: 0 };
    // From where it stopped, then (every node after settled) from the start, counting failures.
    const found = scan(s, from, null, outcome) ?? scan(s, { w: 0, i: 0 }, { failed: 0 }, outcome);
    if (found === null || typeof found === "number") {
      this.at = null;
      return found ?? 0;
    }
    this.at = { of: s, step, w: found.w, i: found.i };
    return null;
  }
}

/** The first pending released node from `from`; else the failures counted (`count`), or null. */
function scan(
  s: StagedState,
  from: At,
  count: { failed: number } | null,
  outcome: (name: string) => NodeOutcome,
): At | number | null {
  for (let w = from.w; w <= s.core.step; w++) {
    const names = s.waves[w] ?? [];
    for (let i = w === from.w ? from.i : 0; i < names.length; i++) {
      const o = outcome(names[i]!);
      if (o === "pending") return { w, i };
      if (o === "failed" && count) count.failed++;
    }
  }
  return count ? count.failed : null;
}
