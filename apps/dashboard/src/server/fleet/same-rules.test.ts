import type { Snapshot } from "@masq/shared";
import { inSyncSnapshot } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { Assessor } from "./assess-node.js";
import { sameRules } from "./same-rules.js";

const base = inSyncSnapshot();

const edited = (f: (s: Snapshot) => void): Snapshot => {
  const s = structuredClone(base);
  f(s);
  return s;
};

describe("sameRules", () => {
  const cases: { desc: string; input: Snapshot; want: boolean }[] = [
    {
      desc: "another node's seq, time, applied revision and schedule",
      input: edited((s) =>
        Object.assign(s, {
          seq: 9,
          takenAt: 5,
          appliedRevision: 3,
          schedule: { heal: "periodic", resyncMs: 60_000, nextResyncAt: 7 },
        }),
      ),
      want: true,
    },
    {
      desc: "a line removed",
      input: edited((s) => s.linux![0]!.chains[1]!.lines!.pop()),
      want: false,
    },
    {
      desc: "a line changed",
      input: edited((s) => {
        const lines = s.linux![0]!.chains[1]!.lines!;
        lines[1] = `${lines[1]} -m comment --comment x`;
      }),
      want: false,
    },
    {
      desc: "a chain missing (null lines)",
      input: edited((s) => (s.linux![0]!.chains[1]!.lines = null)),
      want: false,
    },
    {
      desc: "another backend",
      input: edited((s) => (s.linux![0]!.backend = "legacy")),
      want: false,
    },
    {
      desc: "unread [] where absent",
      input: edited((s) => (s.linux![0]!.unread = [])),
      want: false,
    },
    { desc: "a read error", input: edited((s) => (s.linux![0]!.readError = "")), want: false },
    {
      desc: "an unread note",
      input: edited((s) => (s.linux![0]!.unreadNote = "bound")),
      want: false,
    },
    {
      desc: "a second family",
      input: edited((s) => s.linux!.push(structuredClone(s.linux![0]!))),
      want: false,
    },
    { desc: "no linux part", input: edited((s) => delete s.linux), want: false },
    {
      desc: "a Windows part: left to the key",
      input: edited((s) => (s.windows = { lists: [] } as unknown as Snapshot["windows"])),
      want: false,
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      expect(sameRules(base, input)).toBe(want);
      expect(sameRules(input, base)).toBe(want);
    });

  it("agrees with the assessment cache key: same rules ⇔ one shared copy", () => {
    for (const { desc, input, want } of cases) {
      if (input.windows) continue;
      const a = new Assessor();
      // Interned out of order, so the second is found by key, not by the last-seen shortcut.
      const first = a.intern(structuredClone(base));
      a.intern(edited((s) => s.linux![0]!.chains[0]!.lines!.push("-A POSTROUTING -j RETURN")));
      const got = a.intern(input);
      expect(got.linux === first.linux, desc).toBe(want);
      expect(got, desc).toEqual(input);
    }
  });
});
