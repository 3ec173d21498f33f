import { defaultConfig, type MasqConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { ExtraSource } from "../store/sources.js";
import type { ConfigRevision } from "../store/types.js";
import { MergedNumbering } from "./merged-desired.js";

const rev = (resourceVersion: string, revision: number): ConfigRevision => ({
  resourceVersion,
  revision,
  text: "",
  author: "a",
  updatedAt: "2026-01-01T00:00:00Z",
  message: "",
});
const cfg = (...cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });
const extra = { source: { kind: "file", name: "ip-masq-x", key: "ip-masq-x" } } as ExtraSource;

describe("MergedNumbering", () => {
  const cases: {
    desc: string;
    input: { floor: number; steps: [ConfigRevision, MasqConfig, number][] };
    want: [number, string][];
  }[] = [
    {
      desc: "the first merge is numbered above everything the store handed out",
      input: { floor: 7, steps: [[rev("5", 5), cfg("10.0.0.0/8"), 1]] },
      want: [[8, "5+1@r8"]],
    },
    {
      desc: "the same merge of the same revision keeps its number; any change takes the next",
      input: {
        floor: 1,
        steps: [
          [rev("1", 1), cfg("10.0.0.0/8"), 1],
          [rev("1", 1), cfg("10.0.0.0/8"), 1],
          [rev("1", 1), cfg("10.0.0.0/8", "100.64.0.0/10"), 2],
          [rev("2", 2), cfg("10.0.0.0/8", "100.64.0.0/10"), 2],
        ],
      },
      want: [
        [2, "1+1@r2"],
        [2, "1+1@r2"],
        [3, "1+2@r3"],
        [4, "2+2@r4"],
      ],
    },
    {
      desc: "never back: a store revision numbered lower than the last merge; the sources gone",
      input: {
        floor: 1,
        steps: [
          [rev("1", 1), cfg("10.0.0.0/8"), 1],
          [rev("1", 1), cfg("10.0.0.0/8", "192.0.2.0/24"), 1],
          [rev("2", 2), cfg("172.16.0.0/12"), 1],
          [rev("2", 2), cfg("10.0.0.0/8"), 0],
        ],
      },
      want: [
        [2, "1+1@r2"],
        [3, "1+1@r3"],
        [4, "2+1@r4"],
        [5, "2"],
      ],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const n = new MergedNumbering(input.floor);
    const got = input.steps.map(([r, c, extras]) => {
      const d = n.desired(
        r,
        c,
        Array.from({ length: extras }, () => extra),
      );
      return [d.revision, d.resourceVersion];
    });
    expect(got).toEqual(want);
    expect(n.used).toBe(true);
  });
});

// A restart numbered merges from the store's revisions again: revision 14 handed out before it
// (a persisted, aborted staged rollout's) came again for another config.
describe("MergedNumbering.above", () => {
  const cases: {
    desc: string;
    input: { floor: number; shared?: number; above: number };
    want: { used: boolean; next: number };
  }[] = [
    {
      desc: "above the store's numbers: raised, used",
      input: { floor: 11, above: 14 },
      want: { used: true, next: 15 },
    },
    {
      desc: "at or below them: nothing changes (one source keeps the store's numbers)",
      input: { floor: 11, above: 11 },
      want: { used: false, next: 13 },
    },
    {
      desc: "another replica's merges up to 20 (the shared mark): numbered above them, not used",
      input: { floor: 11, shared: 20, above: 11 },
      want: { used: false, next: 21 },
    },
    {
      desc: "a seed above the store's numbers but below the shared mark: used, above the mark",
      input: { floor: 11, shared: 20, above: 14 },
      want: { used: true, next: 21 },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const n = new MergedNumbering(input.floor, input.shared);
    n.above(input.above);
    expect(n.used).toBe(want.used);
    expect(n.desired(rev("12", 12), cfg("10.0.0.0/8"), []).revision).toBe(want.next);
  });
});

// A restart numbered merges anew: a staged rollout's own merge (revision 11) came back as 10,
// equal to the revision before it, and a new merge could take an aborted revision's number.
describe("MergedNumbering.seed (the persisted rollout's numbers)", () => {
  const known = [
    { revision: 11, resourceVersion: "9+1@r11", config: cfg("10.0.0.0/8", "10.20.0.0/16") },
    { revision: 10, resourceVersion: "9+1@r10", config: cfg("10.0.0.0/8") },
  ];
  const cases: {
    desc: string;
    input: { floor: number; steps: [ConfigRevision, MasqConfig][] };
    want: [number, string][];
  }[] = [
    {
      desc: "the same merge of the same stored revision gets its number again",
      input: { floor: 9, steps: [[rev("9", 9), cfg("10.0.0.0/8", "10.20.0.0/16")]] },
      want: [[11, "9+1@r11"]],
    },
    {
      desc: "the merge before it too (nodes run it after an abort)",
      input: { floor: 9, steps: [[rev("9", 9), cfg("10.0.0.0/8")]] },
      want: [[10, "9+1@r10"]],
    },
    {
      desc: "another config is numbered above every persisted number",
      input: { floor: 9, steps: [[rev("9", 9), cfg("192.0.2.0/24")]] },
      want: [[13, "9+1@r13"]],
    },
    {
      desc: "once numbering moved on, a persisted merge is not found again (never back)",
      input: {
        floor: 9,
        steps: [
          [rev("9", 9), cfg("192.0.2.0/24")],
          [rev("9", 9), cfg("10.0.0.0/8")],
        ],
      },
      want: [
        [13, "9+1@r13"],
        [14, "9+1@r14"],
      ],
    },
    {
      desc: "found again at the start only: a later merge equal to the one before is numbered on",
      input: {
        floor: 9,
        steps: [
          [rev("9", 9), cfg("10.0.0.0/8", "10.20.0.0/16")],
          [rev("9", 9), cfg("10.0.0.0/8")],
        ],
      },
      want: [
        [11, "9+1@r11"],
        [13, "9+1@r13"],
      ],
    },
    {
      desc: "the same config from another stored revision is a new merge",
      input: { floor: 12, steps: [[rev("12", 12), cfg("10.0.0.0/8")]] },
      want: [[13, "12+1@r13"]],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const n = new MergedNumbering(input.floor);
    n.seed({ known, highest: 12 });
    const got = input.steps.map(([r, c]) => {
      const d = n.desired(r, c, [extra]);
      return [d.revision, d.resourceVersion];
    });
    expect(got).toEqual(want);
    expect(n.highest).toBe(Math.max(12, ...got.map(([r]) => r as number)));
  });
});

describe("MergedNumbering: who a merged revision is from", () => {
  const team = (resourceVersion: string, author: string): ExtraSource => ({
    source: { kind: "file", name: "ip-masq-team", key: "ip-masq-team" },
    text: "",
    resourceVersion,
    author,
    updatedAt: "2026-01-01T00:00:00Z",
  });
  const primary = (resourceVersion: string, author: string): ConfigRevision => ({
    ...rev(resourceVersion, Number(resourceVersion)),
    author,
  });
  type Step = ["track" | "merge", ConfigRevision, ExtraSource[]];
  const cases: { desc: string; steps: Step[]; want: (string | undefined)[] }[] = [
    {
      // A new user's find: a file source added after an admin's save was "saved by admin".
      desc: "a source added beside the primary: its author, not the primary's",
      steps: [
        ["track", primary("4", "admin"), []],
        ["merge", primary("4", "admin"), [team("a", "file (outside the dashboard)")]],
      ],
      want: ["file (outside the dashboard) in file ip-masq-team"],
    },
    {
      desc: "a changed source: its author; then a primary save: the primary's author",
      steps: [
        ["merge", primary("4", "admin"), [team("a", "ann")]],
        ["merge", primary("4", "admin"), [team("b", "bob")]],
        ["merge", primary("5", "carol"), [team("b", "bob")]],
      ],
      want: ["admin", "bob in file ip-masq-team", "carol"],
    },
    {
      desc: "a source removed: nobody can be named",
      steps: [
        ["merge", primary("4", "admin"), [team("a", "ann")]],
        ["merge", primary("4", "admin"), []],
      ],
      want: ["admin", undefined],
    },
  ];
  it.each(cases)("$desc", ({ steps, want }) => {
    const n = new MergedNumbering(1);
    const got: (string | undefined)[] = [];
    for (const [op, r, extras] of steps) {
      if (op === "track") n.track(r, extras);
      else got.push(n.desired(r, cfg(`10.${got.length}.0.0/16`), extras).author);
    }
    expect(got).toEqual(want);
  });
});
