import { defaultConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import {
  type AtOnceRead,
  AtOnceRollout,
  atOnceRecord,
  readAtOnce,
  unseenByNumber,
} from "./at-once-state.js";

const v2: Desired = {
  revision: 2,
  resourceVersion: "2",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
};
const record = atOnceRecord(v2, 1000, "alice", 3);

describe("readAtOnce: a persisted all-at-once rollout, for the current revision", () => {
  const cases: {
    desc: string;
    input: { raw: unknown; current: Desired | null };
    want: AtOnceRead["kind"];
  }[] = [
    { desc: "none persisted", input: { raw: undefined, current: v2 }, want: "none" },
    { desc: "the current revision's", input: { raw: record, current: v2 }, want: "resumed" },
    {
      desc: "a merge of the same save and config, numbered anew after the restart",
      input: {
        raw: { ...record, revision: 11, resourceVersion: "2+ab12" },
        current: { ...v2, revision: 12, resourceVersion: "2+cd34" },
      },
      want: "resumed",
    },
    {
      desc: "another config under the same number (another replica's merge): not it",
      input: { raw: record, current: { ...v2, config: defaultConfig() } },
      want: "other",
    },
    {
      desc: "an older revision (superseded): not resumed",
      input: { raw: record, current: { ...v2, revision: 3, resourceVersion: "3" } },
      want: "other",
    },
    {
      desc: "no current revision (an invalid config)",
      input: { raw: record, current: null },
      want: "other",
    },
    {
      desc: "a field not known (a hand edit)",
      input: { raw: { ...record, by: "x" }, current: v2 },
      want: "bad",
    },
    {
      desc: "a revision that is no number",
      input: { raw: { ...record, revision: "2" }, current: v2 },
      want: "bad",
    },
    {
      desc: "negative targets",
      input: { raw: { ...record, targets: -1 }, current: v2 },
      want: "bad",
    },
    {
      desc: "a start past what a date holds (would throw when shown)",
      input: { raw: { ...record, startedAt: 9e15 }, current: v2 },
      want: "bad",
    },
    { desc: "not an object", input: { raw: "at once", current: v2 }, want: "bad" },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const read = readAtOnce(input.raw, input.current);
    expect(read.kind).toBe(want);
    if (read.kind === "bad") expect(read.error).toMatch(/^atOnce|unknown field|\w+: /);
  });

  it("says which field is wrong", () => {
    expect(readAtOnce({ ...record, targets: -1 }, v2)).toEqual({
      kind: "bad",
      error: expect.stringContaining("targets"),
    });
  });
});

describe("unseenByNumber: targets not known by name after a start with no roster", () => {
  const cases = [
    { desc: "none back", input: { targets: 3, known: 0 }, want: 3 },
    { desc: "two back", input: { targets: 3, known: 2 }, want: 1 },
    { desc: "more known than counted (joined since)", input: { targets: 3, known: 5 }, want: 0 },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(unseenByNumber({ ...record, targets: input.targets }, input.known)).toBe(want);
  });
});

describe("AtOnceRollout", () => {
  it("is dropped when its rollout finishes, not when another does", () => {
    const o = new AtOnceRollout();
    o.begin(v2, 1000, "alice", 3);
    expect(o.finished(1)).toBe(false);
    expect(o.persisted).toEqual(record);
    expect(o.finished(2)).toBe(true);
    expect(o.persisted).toBeUndefined();
  });

  it("resumed: tracked from its own start, renumbered as the current merge", () => {
    const o = new AtOnceRollout();
    const current = { ...v2, revision: 12, resourceVersion: "2+cd34" };
    o.restore({ ...record, revision: 11, resourceVersion: "2+ab12" }, current);
    expect(o.tracking()).toEqual({ revision: 12, resourceVersion: "2+cd34", startedAt: 1000 });
    expect(o.unseen(12, 1)).toBe(2);
    expect(o.unseen(2, 0)).toBe(0);
  });

  it("with a roster naming the nodes, nothing is counted by number (they are targets by name)", () => {
    const o = new AtOnceRollout();
    o.rosterListed(true);
    o.restore(record, v2);
    expect(o.tracking()).not.toBeNull();
    expect(o.unseen(2, 0)).toBe(0);
  });

  it("a target forgotten is no longer counted", () => {
    const o = new AtOnceRollout();
    o.restore(record, v2);
    expect(o.removed()).toBe(true);
    expect(o.unseen(2, 0)).toBe(2);
    expect(new AtOnceRollout().removed()).toBe(false);
  });

  it("a bad one is said, not tracked, and written back as it was until a newer save", () => {
    const o = new AtOnceRollout();
    const bad = { ...record, targets: "three" };
    expect(o.restore(bad, v2).kind).toBe("bad");
    expect(o.tracking()).toBeNull();
    expect(o.persisted).toBe(bad);
    expect(o.problems(undefined)).toEqual([
      expect.stringMatching(
        /^the persisted all-at-once rollout could not be read \(targets: .*kept as stored/,
      ),
    ]);
    o.begin(v2, 2000, "bob", 3);
    expect(o.problems(undefined)).toEqual([]);
    expect(o.persisted).toMatchObject({ startedBy: "bob" });
  });

  it("one that could not be written is said", () => {
    const o = new AtOnceRollout();
    o.begin(v2, 1000, "alice", 3);
    expect(o.problems("disk full (ENOSPC)")).toEqual([
      expect.stringContaining("revision 2 could not be persisted (disk full (ENOSPC))"),
    ]);
  });

  it("every replica active, a follower: held open while the owner keeps it, dropped when the owner does", () => {
    const o = new AtOnceRollout();
    o.restore(record, v2);
    expect(o.heldOpen(2)).toBe(true);
    expect(o.heldOpen(1)).toBe(false);
    expect(o.unseen(2, 1, true)).toBe(0); // every node known by name (the NodeMasquerades)
    expect(o.followed({ ...record, targets: 2 }, v2)).toBe(false); // still kept by the owner
    expect(o.heldOpen(2)).toBe(true);
    expect(o.followed(undefined, v2)).toBe(true); // the owner dropped it: over on every node
    expect(o.heldOpen(2)).toBe(false);
    expect(o.tracking()).toBeNull();
    expect(o.resumedOf(2)).toBe(true); // its finish is the owner's to tell
    expect(o.followed(undefined, v2)).toBe(false);
  });

  it("a follower not restarted keeps the owner's record (to go on with it as owner), never held open", () => {
    const o = new AtOnceRollout();
    expect(o.followed(record, v2)).toBe(false);
    expect(o.inProgress()).toEqual(record);
    expect(o.heldOpen(2)).toBe(false);
    expect(o.resumedOf(2)).toBe(false);
    expect(o.followed({ ...record, config: "0".repeat(64) }, v2)).toBe(false); // another revision
    expect(o.inProgress()).toBeNull();
  });
});
