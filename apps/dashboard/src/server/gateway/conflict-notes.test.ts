import { describe, expect, it, vi } from "vitest";
import { ConflictNotes } from "./conflict-notes.js";

// Once a minute per node, measured on the monotonic clock by default: on the wall clock a step
// forward noted the next conflict at once, a step back kept every conflict out of the node's
// timeline for the length of the step.
describe("ConflictNotes on its default clock across a wall-clock step", () => {
  for (const step of [10 * 60_000, -10 * 60_000])
    it(`stepped ${step > 0 ? "forward" : "back"} 10 min: noted again after a minute, not before`, () => {
      // Both clocks faked: time passing moves both, setSystemTime steps the wall one only.
      vi.useFakeTimers({ toFake: ["Date", "performance"], now: 1_000_000_000 });
      try {
        const notes = new ConflictNotes(60_000);
        expect(notes.take("n1")).toBe(true);
        vi.setSystemTime(Date.now() + step);
        vi.advanceTimersByTime(1_000);
        expect(notes.take("n1")).toBe(false);
        expect(notes.take("n2")).toBe(true);
        vi.advanceTimersByTime(60_000);
        expect(notes.take("n1")).toBe(true);
      } finally {
        vi.useRealTimers();
      }
    });

  it("notes a node again once the interval has passed", () => {
    let t = 0;
    const notes = new ConflictNotes(60_000, () => t);
    expect(notes.take("n1")).toBe(true);
    t += 59_999;
    expect(notes.take("n1")).toBe(false);
    t += 1;
    expect(notes.take("n1")).toBe(true);
  });
});
