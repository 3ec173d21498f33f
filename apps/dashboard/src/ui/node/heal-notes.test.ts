import { describe, expect, it } from "vitest";
import { resyncNote } from "./heal-notes";

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
