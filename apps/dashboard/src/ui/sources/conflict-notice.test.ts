import { describe, expect, it } from "vitest";
import { conflictsTitle, fleetConflictNotice, mergedHeading } from "./conflict-notice";

const c = (message: string) => ({ message });

describe("conflictsTitle", () => {
  it("counts one and several conflicts", () => {
    expect(conflictsTitle(1)).toBe(
      "1 conflict between config sources: nodes keep the last good merged config",
    );
    expect(conflictsTitle(3)).toBe(
      "3 conflicts between config sources: nodes keep the last good merged config",
    );
  });
});

describe("fleetConflictNotice", () => {
  it("is nothing without a merge or without conflicts", () => {
    expect(fleetConflictNotice(null)).toBeNull();
    expect(fleetConflictNotice(undefined)).toBeNull();
    expect(fleetConflictNotice({ conflicts: [] })).toBeNull();
  });

  it("names the first conflict and counts the rest, linking to the Config page", () => {
    expect(fleetConflictNotice({ conflicts: [c("resyncInterval: 60s in a, 30s in b")] })).toEqual({
      title: conflictsTitle(1),
      detail: "resyncInterval: 60s in a, 30s in b",
      href: "/config",
    });
    expect(fleetConflictNotice({ conflicts: [c("first"), c("second"), c("third")] })).toEqual({
      title: conflictsTitle(3),
      detail: "first (and 2 more)",
      href: "/config",
    });
  });
});

// The panel said "What nodes get: …" over a merge no node got (conflicts, or held after an
// abort), and only after the CIDRs of the conflicting source that it was not pushed.
describe("mergedHeading: what nodes get only when the merge is pushed", () => {
  const two = [{}, {}];
  const HELD =
    "revision 7 was aborted: every node runs revision 5, and a merge … (review it, then save or roll back).";
  const tests: {
    desc: string;
    input: Parameters<typeof mergedHeading>;
    want: ReturnType<typeof mergedHeading>;
  }[] = [
    {
      desc: "pushable: what nodes get",
      input: [{ sources: two, pushable: true, held: null }, 4],
      want: { title: "Merged config (2 sources)", lead: "What nodes get:" },
    },
    {
      desc: "conflicts: the merge as computed, no node gets it, what nodes run instead",
      input: [{ sources: two, pushable: false, held: null }, 4],
      want: {
        title: "Merged config as computed (2 sources): no node gets it",
        lead: "Not pushed while the sources conflict. No node gets this merge; nodes run revision 4 instead. As computed:",
      },
    },
    {
      desc: "held after an abort: why, and what nodes run instead",
      input: [{ sources: [...two, {}], pushable: false, held: HELD }, 5],
      want: {
        title: "Merged config as computed (3 sources): no node gets it",
        lead: `Not pushed: ${HELD} No node gets this merge; nodes run revision 5 instead. As computed:`,
      },
    },
    {
      desc: "conflicts from the start: nodes have nothing from the dashboard",
      input: [{ sources: two, pushable: false }, null],
      want: {
        title: "Merged config as computed (2 sources): no node gets it",
        lead: "Not pushed while the sources conflict. No node gets this merge; nodes have no config from the dashboard yet. As computed:",
      },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(mergedHeading(...input)).toEqual(want);
  });
});
