import type { NodeRolloutPlace } from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  byWave,
  describePlace,
  inRollout,
  type PlaceText,
  rolloutFilterText,
  rolloutOptions,
} from "./rollout-place";

const at = (over: Partial<NodeRolloutPlace>): NodeRolloutPlace => ({
  revision: 5,
  wave: 0,
  waveName: "canary",
  released: true,
  aborted: false,
  desiredRevision: 5,
  progress: "applying",
  ...over,
});
const wave2 = { wave: 2, waveName: "wave 2", released: false, desiredRevision: 4 } as const;

describe("describePlace", () => {
  const cases: { desc: string; input: NodeRolloutPlace | undefined; want: PlaceText | null }[] = [
    { desc: "no rollout: nothing", input: undefined, want: null },
    {
      desc: "a canary applying",
      input: at({}),
      want: {
        label: "canary · applying",
        tone: "progress",
        title: "Canary of revision 5 is released: the node has not applied it yet.",
      },
    },
    {
      desc: "a canary that runs the new revision",
      input: at({ progress: "applied" }),
      want: {
        label: "canary · applied",
        tone: "done",
        title: "Canary of revision 5: the node runs it.",
      },
    },
    {
      // issue 17: "canary · applied" while its wave counted it pending (rules not known yet)
      desc: "a canary that applied it, its rules not judged yet",
      input: at({ progress: "awaiting-rules" }),
      want: {
        label: "canary · applied, waiting for its rules",
        tone: "progress",
        title:
          "Canary of revision 5: the node applied it; its rules since are not judged yet, so its wave counts it pending.",
      },
    },
    {
      desc: "a later wave waits on the previous revision",
      input: at({ ...wave2, progress: "waiting" }),
      want: {
        label: "wave 2 · waits",
        tone: "neutral",
        title:
          "Waits in wave 2: revision 5 has not reached this wave yet; the node keeps revision 4.",
      },
    },
    {
      desc: "a failure with its reason",
      input: at({ progress: "failed", failure: "iptables-restore: exit status 1" }),
      want: {
        label: "canary · failed",
        tone: "failed",
        title: "Canary of revision 5 failed on this node: iptables-restore: exit status 1.",
      },
    },
    {
      desc: "a failure the node has since healed: both said",
      input: at({ progress: "failed", failure: "drifted: missing 10.0.0.0/8", inSyncNow: true }),
      want: {
        label: "canary · failed, in sync now",
        tone: "failed",
        title:
          "Canary of revision 5 failed on this node: drifted: missing 10.0.0.0/8. It runs revision 5 in sync now; the rollout counts it failed until Retry.",
      },
    },
    {
      desc: "applied with drift it had before the revision reached it: said, not failed",
      input: at({
        progress: "applied",
        driftedBefore:
          "drifted before revision 5 reached it (the same drift against revision 4): masqueraded after the chain",
      }),
      want: {
        label: "canary · applied, drifted before",
        tone: "done",
        title:
          "Canary of revision 5: the node runs it, drifted before revision 5 reached it (the same drift against revision 4): masqueraded after the chain; not counted against the rollout.",
      },
    },
    {
      desc: "aborted, not back yet",
      input: at({ aborted: true, released: false, desiredRevision: 4, progress: "applying" }),
      want: {
        label: "canary · returning",
        tone: "aborted",
        title:
          "The rollout of revision 5 was aborted: this node (canary) is returning to revision 4.",
      },
    },
    {
      desc: "aborted, on the previous revision",
      input: at({ ...wave2, aborted: true, progress: "applied" }),
      want: {
        label: "wave 2 · aborted",
        tone: "aborted",
        title: "The rollout of revision 5 was aborted: this node (wave 2) runs revision 4.",
      },
    },
    {
      desc: "a place without progress (an older server): from released",
      input: at({ ...wave2, progress: undefined }),
      want: {
        label: "wave 2 · waits",
        tone: "neutral",
        title:
          "Waits in wave 2: revision 5 has not reached this wave yet; the node keeps revision 4.",
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(describePlace(input)).toEqual(want);
  });
});

describe("the rollout filter", () => {
  const nodes = [
    { rollout: at({ progress: "failed", failure: "x" }) },
    { rollout: at({ ...wave2, progress: "waiting" }) },
    { rollout: at({ wave: 1, waveName: "wave 1", progress: "applied" }) },
    {},
  ];
  it("offers the waves present in order, then the progresses present", () => {
    expect(rolloutOptions(nodes)).toEqual([
      { value: "canary", label: "canary" },
      { value: "wave 1", label: "wave 1" },
      { value: "wave 2", label: "wave 2" },
      { value: "waiting", label: "waiting for their wave" },
      { value: "applied", label: "applied" },
      { value: "failed", label: "failed" },
    ]);
    expect(rolloutOptions([{}, {}])).toEqual([]);
  });
  const cases: { desc: string; input: string; want: boolean[] }[] = [
    { desc: "by wave", input: "wave 2", want: [false, true, false, false] },
    { desc: "by progress", input: "failed", want: [true, false, false, false] },
    { desc: "the canary", input: "canary", want: [true, false, false, false] },
  ];
  it.each(cases)("matches $desc", ({ input, want }) => {
    expect(nodes.map((n) => inRollout(n, input))).toEqual(want);
  });
  it("describes itself", () => {
    expect(["canary", "wave 2", "waiting"].map(rolloutFilterText)).toEqual([
      "a place in the canary",
      "a place in wave 2",
      "rollout progress waiting for their wave",
    ]);
  });
});

describe("byWave", () => {
  it("canary first, later waves after, then no rollout by oldest applied revision", () => {
    const rows = [
      { name: "x", appliedRevision: 4 },
      { name: "w2", appliedRevision: 4, rollout: at(wave2) },
      { name: "none", appliedRevision: null },
      { name: "c", appliedRevision: 5, rollout: at({}) },
      { name: "y", appliedRevision: 3 },
    ];
    expect(rows.sort(byWave).map((r) => r.name)).toEqual(["c", "w2", "none", "y", "x"]);
  });
});
