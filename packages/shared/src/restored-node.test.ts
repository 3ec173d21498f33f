import { describe, expect, it } from "vitest";
import { NOT_HEARD_SINCE_RESTART, restoredNote, restoredSummary } from "./restored-node.js";

describe("restoredSummary", () => {
  const cases = [
    {
      desc: "in sync before the restart is said as before, never as now",
      input: { status: "in-sync", summary: "rules match revision 3" } as const,
      want: `${NOT_HEARD_SINCE_RESTART} (before it: in-sync, rules match revision 3)`,
    },
    {
      desc: "offline already before the restart",
      input: { status: "offline", summary: "" } as const,
      want: `${NOT_HEARD_SINCE_RESTART} (before it: offline)`,
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(restoredSummary(input)).toBe(want));
});

describe("restoredNote", () => {
  it("is said only of a restored node", () => {
    expect(restoredNote({})).toBeNull();
    expect(restoredNote({ notHeardSinceStart: 1 })).toMatch(/since the dashboard restarted/);
  });
});
