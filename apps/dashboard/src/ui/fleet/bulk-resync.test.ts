import type { BulkResyncResponse, DriftedResync } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { type BulkResyncButton, bulkResyncButton, bulkResyncToasts } from "./bulk-resync";

const OBSERVE = "observe mode: IPMASQ_OBSERVE_RESYNC is off";
const OTHERS = "what differs is only other components' rules on the path";

describe("bulkResyncButton", () => {
  const cases: {
    desc: string;
    input: { drifted: number; counts?: DriftedResync; canEdit?: boolean };
    want: BulkResyncButton;
  }[] = [
    {
      desc: "every drifted node can be resynced",
      input: { drifted: 3, counts: { resyncable: 3, skipped: [] } },
      want: {
        label: "Resync all drifted (3)",
        title: "Re-apply the desired rules on 3 drifted nodes",
        disabled: false,
      },
    },
    {
      desc: "observe-mode drifted nodes are counted apart, with the reason",
      input: { drifted: 3, counts: { resyncable: 2, skipped: [{ reason: OBSERVE, count: 1 }] } },
      want: {
        label: "Resync all drifted (2 of 3)",
        title: `Re-apply the desired rules on 2 drifted nodes; 1 drifted node is skipped (${OBSERVE})`,
        disabled: false,
      },
    },
    {
      desc: "only nodes it cannot resync: disabled, and says why",
      input: { drifted: 2, counts: { resyncable: 0, skipped: [{ reason: OBSERVE, count: 2 }] } },
      want: {
        label: "Resync all drifted (0 of 2)",
        title: `Nothing to resync: 2 drifted nodes are skipped (${OBSERVE})`,
        disabled: true,
      },
    },
    {
      desc: "nothing drifted",
      input: { drifted: 0, counts: { resyncable: 0, skipped: [] } },
      want: { label: "Resync all drifted", title: "No node is drifted", disabled: true },
    },
    {
      desc: "a server without the split: the drifted count, as before",
      input: { drifted: 2 },
      want: {
        label: "Resync all drifted (2)",
        title: "Re-apply the desired rules on 2 drifted nodes",
        disabled: false,
      },
    },
    {
      desc: "a viewer",
      input: { drifted: 2, counts: { resyncable: 2, skipped: [] }, canEdit: false },
      want: { label: "Resync all drifted (2)", title: "Only editors can resync", disabled: true },
    },
    {
      desc: "two reasons: each with its count",
      input: {
        drifted: 4,
        counts: {
          resyncable: 1,
          skipped: [
            { reason: OBSERVE, count: 2 },
            { reason: "the node is offline", count: 1 },
          ],
        },
      },
      want: {
        label: "Resync all drifted (1 of 4)",
        title: `Re-apply the desired rules on 1 drifted node; 3 drifted nodes are skipped (2: ${OBSERVE}; 1: the node is offline)`,
        disabled: false,
      },
    },
    {
      desc: "drifted nodes a resync would not change are not counted, and the title says why",
      input: {
        drifted: 5,
        counts: { resyncable: 3, skipped: [], cannotHeal: [{ reason: OTHERS, count: 2 }] },
      },
      want: {
        label: "Resync all drifted (3 of 5)",
        title: `Re-apply the desired rules on 3 drifted nodes; 2 drifted nodes are left alone: a resync would not change them (${OTHERS})`,
        disabled: false,
      },
    },
    {
      desc: "only nodes a resync would not change: disabled",
      input: {
        drifted: 2,
        counts: {
          resyncable: 0,
          skipped: [{ reason: OBSERVE, count: 1 }],
          cannotHeal: [{ reason: OTHERS, count: 1 }],
        },
      },
      want: {
        label: "Resync all drifted (0 of 2)",
        title: `Nothing to resync: 1 drifted node is skipped (${OBSERVE}); 1 drifted node is left alone: a resync would not change it (${OTHERS})`,
        disabled: true,
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(bulkResyncButton(input.drifted, input.counts, input.canEdit ?? true)).toEqual(want);
  });
});

describe("bulkResyncToasts", () => {
  const cases: { desc: string; input: BulkResyncResponse; want: [string, string][] }[] = [
    {
      desc: "resynced here",
      input: { nodes: ["a", "b"], skipped: [] },
      want: [["success", "Resync requested for 2 nodes"]],
    },
    {
      desc: "some asked of other replicas, written at once",
      input: {
        nodes: ["a", "b"],
        skipped: [],
        requested: [{ name: "b", replica: "r2" }],
        requestBacklog: { waiting: 0, perSecond: 50, drainSeconds: 0 },
      },
      want: [["success", "Resync requested for 2 nodes (1 via the replicas holding them)"]],
    },
    {
      desc: "requests waiting for the rate limit: how many and when the last goes",
      input: {
        nodes: ["a", "b", "c"],
        skipped: [{ name: "d", reason: "too many resync requests waiting (100000)" }],
        requested: [
          { name: "b", replica: "r2" },
          { name: "c", replica: "r3" },
        ],
        requestBacklog: { waiting: 1200, perSecond: 50, drainSeconds: 24 },
      },
      want: [
        [
          "success",
          "Resync requested for 3 nodes (2 via the replicas holding them; 1200 wait, all sent within 24 s)",
        ],
        ["error", "1 node not resynced: d (too many resync requests waiting (100000))"],
      ],
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(bulkResyncToasts(input)).toEqual(want));
});
