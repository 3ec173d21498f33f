import type { RollbackImpactResponse } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { unchangedRollbackNote } from "./rollback-note";

const impact = (changed: boolean[], merged = false): RollbackImpactResponse =>
  ({
    known: true,
    to: { revision: 1 },
    from: { revision: 3, resourceVersion: "3" },
    notes: [],
    merged,
    keys: changed.map((c, i) => ({ key: `k${i}`, from: 1, to: c ? 2 : 1, changed: c })),
    diff: {},
    impact: {},
  }) as unknown as RollbackImpactResponse;

describe("unchangedRollbackNote", () => {
  it.each([
    {
      // A new user's find: History offered "Roll back" to revision 1, identical to what ran.
      desc: "the same config as nodes run",
      input: impact([false, false]),
      want: "Nothing would change on the nodes: revision 1's config is the one nodes run now (revision 3). Rolling back would only save a new revision with the same config.",
    },
    {
      desc: "merged with other sources",
      input: impact([false], true),
      want: "Nothing would change on the nodes: revision 1's config, merged with the other config sources as they are now, is the one nodes run now (revision 3). Rolling back would only save a new revision with the same config.",
    },
    { desc: "a key changes", input: impact([false, true]), want: null },
    {
      desc: "not known",
      input: {
        known: false,
        to: { revision: 1 },
        reason: "x",
      } as unknown as RollbackImpactResponse,
      want: null,
    },
  ])("$desc", ({ input, want }) => expect(unchangedRollbackNote(input)).toBe(want));
});
