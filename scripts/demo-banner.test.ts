import { describe, expect, it } from "vitest";
import { healNote } from "./demo-banner.js";

describe("healNote: when the demo's drifted node heals on its own", () => {
  const at = Date.UTC(2026, 11, 2, 10, 43, 3);
  const tests: { desc: string; input: Parameters<typeof healNote>; want: string }[] = [
    {
      desc: "the next resync's clock time, so a user who opens the page later knows it healed",
      input: [
        { kind: "periodic", heal: "next-resync", intervalMs: 60_000, nextResyncAt: at },
        "60s",
      ],
      want: "at its next resync, about 10:43:03 UTC (resyncInterval 60s, the default)",
    },
    {
      desc: "a resync running now: no time to give",
      input: [
        { kind: "periodic", heal: "next-resync", intervalMs: 60_000, nextResyncAt: null },
        "60s",
      ],
      want: "at its next resync (resyncInterval 60s, the default)",
    },
    {
      desc: "the dashboard cannot tell",
      input: [{ kind: "unknown", reason: "no hello yet" }, "60s"],
      want: "at its next resync (resyncInterval 60s, the default)",
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(healNote(...input)).toBe(want);
  });
});
