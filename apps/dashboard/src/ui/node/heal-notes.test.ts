import { describe, expect, it } from "vitest";
import { healWording, resyncNote } from "./heal-notes";

describe("resyncNote", () => {
  const cases: {
    desc: string;
    input: Parameters<typeof resyncNote>;
    want: string;
  }[] = [
    {
      desc: "a healthy node: a resync heals it",
      input: [null, false],
      want: "Resync heals it now.",
    },
    {
      desc: "other components' rules: only the agent's own",
      input: [{ ok: true }, true],
      want: "Resync heals the agent's own rules now.",
    },
    {
      // A new user's find: a node whose every apply failed was promised "Resync heals it now".
      desc: "the last apply failed: a resync only tries again",
      input: [{ ok: false }, false],
      want: "Its last apply failed (see History of this node): a resync, clicked or automatic, tries again, and heals only once that cause is gone.",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(resyncNote(...input)).toBe(want);
  });
});

describe("healWording", () => {
  it.each([
    { status: "drifted", heading: "Next automatic heal", nothing: null },
    { status: "error", heading: "Next automatic heal", nothing: null },
    // A new user's find: "Next automatic heal: in 55s" on a node in sync, with nothing to heal.
    { status: "in-sync", heading: "Next resync", nothing: "In sync: nothing to heal." },
    { status: "applying", heading: "Next resync", nothing: null },
    { status: "unknown", heading: "Next resync", nothing: null },
    { status: "offline", heading: "Next resync", nothing: null },
  ] as const)("$status", ({ status, heading, nothing }) => {
    const w = healWording(status);
    expect(w.heading).toBe(heading);
    expect(w.nothing).toBe(nothing);
  });

  // A drifted node whose only drift is other components' rules (or the other backend's) was
  // promised "Next automatic heal: at the next resync", which would not change it.
  it("a drifted node a resync would not change: no heal promised", () => {
    expect(healWording("drifted", true)).toEqual({
      heading: "Next resync",
      lead: "Next resync",
      nothing: "Drifted, but not in anything a resync changes (see below).",
    });
    expect(healWording("error", true).heading).toBe("Next automatic heal");
  });
});
