import type { NodeRolloutPlace } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { type PlaceRollout, placeIn } from "./rollout-place.js";

/** Revision 7 rolling out over revision 6, the canary and wave 1 released. */
const rollout = (over: Partial<PlaceRollout["core"]> = {}, failed = {}): PlaceRollout => ({
  revision: 7,
  failed,
  core: { step: 1, aborted: false, ...over },
});

/** A place in revision 7's rollout: the canary, released, running 7, unless said otherwise. */
const place = (over: Partial<NodeRolloutPlace>): NodeRolloutPlace => ({
  revision: 7,
  wave: 0,
  waveName: "canary",
  released: true,
  aborted: false,
  desiredRevision: 7,
  ...over,
});

const cases: {
  desc: string;
  input: {
    s: PlaceRollout;
    wave: number;
    name: string;
    applied: number | null;
    /** Its rules since judged (default true). */
    judged?: boolean;
  };
  want: NodeRolloutPlace;
}[] = [
  {
    desc: "a canary that applied the new revision runs it",
    input: { s: rollout(), wave: 0, name: "n1", applied: 7 },
    want: place({ progress: "applied" }),
  },
  {
    desc: "a released node still on the previous revision is applying",
    input: { s: rollout(), wave: 1, name: "n2", applied: 6 },
    want: place({ wave: 1, waveName: "wave 1", progress: "applying" }),
  },
  {
    desc: "a node of a later wave waits and keeps the previous revision",
    input: { s: rollout(), wave: 2, name: "n3", applied: 6 },
    want: place({
      wave: 2,
      waveName: "wave 2",
      released: false,
      desiredRevision: 6,
      progress: "waiting",
    }),
  },
  {
    desc: "a failed released node says why",
    input: {
      s: rollout({}, { n1: "iptables-restore: exit status 4" }),
      wave: 0,
      name: "n1",
      applied: 6,
    },
    want: place({ progress: "failed", failure: "iptables-restore: exit status 4" }),
  },
  {
    desc: "a failure of a node not released (an earlier try) is not its progress",
    input: { s: rollout({ step: 0 }, { n3: "timed out" }), wave: 1, name: "n3", applied: 6 },
    want: place({
      wave: 1,
      waveName: "wave 1",
      released: false,
      desiredRevision: 6,
      progress: "waiting",
    }),
  },
  {
    desc: "after an abort a node still on the aborted revision is applying the previous one",
    input: { s: rollout({ aborted: true }), wave: 0, name: "n1", applied: 7 },
    want: place({ released: false, aborted: true, desiredRevision: 6, progress: "applying" }),
  },
  {
    desc: "after an abort a node back on the previous revision has applied it",
    input: { s: rollout({ aborted: true }), wave: 2, name: "n3", applied: 6 },
    want: place({
      wave: 2,
      waveName: "wave 2",
      released: false,
      aborted: true,
      desiredRevision: 6,
      progress: "applied",
    }),
  },
  {
    desc: "a node that never applied anything is applying once released",
    input: { s: rollout({ step: 0 }), wave: 0, name: "n4", applied: null },
    want: place({ progress: "applying" }),
  },
  {
    // issue 17: the row said "applied" while its wave counted it pending
    desc: "a canary that applied it, its post-apply rules not judged yet",
    input: { s: rollout(), wave: 0, name: "n1", applied: 7, judged: false },
    want: place({ progress: "awaiting-rules" }),
  },
  {
    desc: "rules not judged of a node still on the previous revision: applying",
    input: { s: rollout(), wave: 1, name: "n2", applied: 6, judged: false },
    want: place({ wave: 1, waveName: "wave 1", progress: "applying" }),
  },
];

describe("placeIn", () => {
  it.each(cases)("$desc", ({ input, want }) => {
    expect(placeIn(input.s, 6, input.wave, input.name, input.applied, input.judged)).toEqual(want);
  });
});
