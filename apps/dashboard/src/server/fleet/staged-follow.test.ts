import { defaultConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import { configDigest, type Followed, followedOf } from "./staged-follow.js";

const cfg = (cidr: string) => ({ ...defaultConfig(), nonMasqueradeCIDRs: [cidr] });
const v1: Desired = { revision: 1, resourceVersion: "1", config: cfg("10.0.0.0/8") };
const v2: Desired = { revision: 2, resourceVersion: "2", config: cfg("192.168.0.0/16") };
const rollout = (revision: number, previousConfig?: object) => ({
  version: 1,
  resourceVersion: String(revision),
  revision,
  previous: { resourceVersion: "1", revision: 1 },
  config: cfg("192.168.0.0/16"),
  ...(previousConfig ? { previousConfig } : {}),
  strategy: { kind: "waves", canary: { count: 1 }, waves: [100], pause: { kind: "manual" } },
  waves: [["a"], ["b"]],
  bounds: { last: ["a", "b"] },
  core: { step: 0, lastStep: 1, phase: "progressing", pause: null, aborted: false },
  failed: {},
  actions: [],
  startedAt: 1,
  startedBy: "alice",
});

/** The owner's state having begun `d` at once (no rollout), naming its config. */
const begunAtOnce = (d: Desired) => ({
  version: 2,
  begun: d.revision,
  begunConfig: configDigest(d.config),
  current: null,
  past: [],
});

describe("followedOf", () => {
  const cases: {
    desc: string;
    input: { raw: unknown; current: Desired };
    want: Followed["kind"];
  }[] = [
    {
      desc: "the owner's rollout of the revision: followed",
      input: {
        raw: { version: 2, begun: 2, current: rollout(2, v1.config), past: [] },
        current: v2,
      },
      want: "rollout",
    },
    {
      // Issue 17: the same config saved again after revision 2 was rolled back or aborted.
      desc: "revision 2's rollout, the same config saved again as revision 4: not followed as its",
      input: {
        raw: { version: 2, begun: 2, current: rollout(2, v1.config), past: [] },
        current: { ...v2, revision: 4, resourceVersion: "4" },
      },
      want: "not-yet",
    },
    {
      desc: "revision 2's rollout, its merge renumbered after a restart: followed",
      input: {
        raw: { version: 2, begun: 2, current: rollout(2, v1.config), past: [] },
        current: { ...v2, revision: 4, resourceVersion: "2+1@r4" },
      },
      want: "rollout",
    },
    {
      // Merged revisions are numbered by each process (merged-desired.ts): another replica's
      // revision 2 may be another merge. Its waves are not this config's: held, never early.
      desc: "revision 2's rollout, this replica's revision 2 another merged config: held",
      input: {
        raw: { version: 2, begun: 2, current: rollout(2, v1.config), past: [] },
        current: { revision: 2, resourceVersion: "2+1@r2", config: cfg("172.16.0.0/12") },
      },
      want: "not-yet",
    },
    {
      desc: "the owner began it without waves: at once",
      input: { raw: { version: 2, begun: 2, current: null, past: [] }, current: v2 },
      want: "at-once",
    },
    {
      // Merged revisions are numbered by each process: the owner's revision 2 begun at once may
      // be another merge than this replica's revision 2, whose nodes went to it early.
      desc: "the owner began its revision 2 at once, another merged config than this one's: held",
      input: {
        raw: begunAtOnce(v2),
        current: { revision: 2, resourceVersion: "2+1@r2", config: cfg("172.16.0.0/12") },
      },
      want: "not-yet",
    },
    {
      desc: "the owner began this very merged config at once: at once",
      input: {
        raw: begunAtOnce(v2),
        current: { ...v2, resourceVersion: "2+1@r2" },
      },
      want: "at-once",
    },
    {
      desc: "a merged revision begun, its config not said (an older owner, extras dropped): held",
      input: {
        raw: { version: 2, begun: 2, current: null, past: [] },
        current: { ...v2, resourceVersion: "2+1@r2" },
      },
      want: "not-yet",
    },
    {
      desc: "the owner has not begun it yet (its state is of the one before): held",
      input: { raw: { version: 2, begun: 1, current: null, past: [] }, current: v2 },
      want: "not-yet",
    },
    {
      desc: "the owner began a later one (this replica is behind): held, never at once",
      input: { raw: { version: 2, begun: 3, current: null, past: [] }, current: v2 },
      want: "not-yet",
    },
    {
      desc: "an older dashboard's state (no begun) of another revision: held",
      input: { raw: { version: 2, current: null, past: [] }, current: v2 },
      want: "not-yet",
    },
    {
      desc: "not a rollout state: held",
      input: { raw: { version: 2, current: "x", past: [] }, current: v2 },
      want: "not-yet",
    },
    {
      desc: "none persisted yet: held",
      input: { raw: null, current: v2 },
      want: "not-yet",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(followedOf(input.raw, input.current).kind).toBe(want);
  });

  it("a state it cannot read says why (the first problem the schema found)", () => {
    const names = Array.from({ length: 100_001 }, (_, i) => `node-${i}`);
    const big = { ...rollout(2, v1.config), waves: [names.slice(0, 1), names.slice(1)] };
    const cases: { desc: string; input: unknown; want: RegExp }[] = [
      {
        desc: "an older state listing more names than a state may carry",
        input: { version: 2, begun: 2, current: big, past: [] },
        want: /^the owner's rollout state is not readable \(unknown field "current\.waves"\)$/,
      },
      {
        desc: "a newer dashboard's version",
        input: { version: 3, current: null, past: [] },
        want: /^the owner's rollout state is not readable \(version: .*\)$/,
      },
    ];
    for (const c of cases)
      expect(followedOf(c.input, v2), c.desc).toMatchObject({
        kind: "not-yet",
        unreadable: true,
        reason: expect.stringMatching(c.want),
      });
    // Not begun yet is no read problem.
    expect(followedOf({ version: 2, begun: 1, current: null, past: [] }, v2)).not.toHaveProperty(
      "unreadable",
    );
  });

  it("the previous revision comes from the state's kept config when there is one", () => {
    const kept = followedOf({ version: 2, current: rollout(2, v1.config), past: [] }, v2);
    expect(kept.kind === "rollout" && kept.previous).toEqual(v1);
    const none = followedOf({ version: 2, current: rollout(2), past: [] }, v2);
    expect(none.kind === "rollout" && none.previous).toBeNull();
  });
});
