import { describe, expect, it } from "vitest";
import {
  type RolloutCore,
  type RolloutInput,
  type RolloutStep,
  startRollout,
  stepRollout,
} from "./rollout-machine.js";
import type { PausePolicy } from "./rollout-plan.js";

const manual: PausePolicy = { kind: "manual" };
const timed: PausePolicy = { kind: "duration", seconds: 30 };
const at = (over: Partial<RolloutCore>): RolloutCore => ({ ...startRollout(2), ...over });
const pausedFail = at({ phase: "paused", pause: { kind: "failure", reason: "a failed" } });

const cases: {
  desc: string;
  input: { core: RolloutCore; event: RolloutInput; pause?: PausePolicy };
  want: RolloutStep;
}[] = [
  {
    desc: "the canary applied: a manual pause",
    input: { core: at({}), event: { type: "wave-settled", now: 0, failed: 0 } },
    want: { ok: true, core: at({ phase: "paused", pause: { kind: "manual" } }), effect: null },
  },
  {
    desc: "the canary applied: a timed pause ends 30 s later",
    input: { core: at({}), event: { type: "wave-settled", now: 1000, failed: 0 }, pause: timed },
    want: {
      ok: true,
      core: at({ phase: "paused", pause: { kind: "duration", until: 31_000 } }),
      effect: null,
    },
  },
  {
    desc: "a timed pause not over yet stays",
    input: {
      core: at({ phase: "paused", pause: { kind: "duration", until: 31_000 } }),
      event: { type: "tick", now: 30_999 },
    },
    want: {
      ok: true,
      core: at({ phase: "paused", pause: { kind: "duration", until: 31_000 } }),
      effect: null,
    },
  },
  {
    desc: "a timed pause over releases the next wave",
    input: {
      core: at({ phase: "paused", pause: { kind: "duration", until: 31_000 } }),
      event: { type: "tick", now: 31_000 },
    },
    want: { ok: true, core: at({ step: 1 }), effect: "release" },
  },
  {
    desc: "the last wave applied: healthy",
    input: { core: at({ step: 2 }), event: { type: "wave-settled", now: 0, failed: 0 } },
    want: { ok: true, core: at({ step: 2, phase: "healthy" }), effect: null },
  },
  {
    desc: "the last wave settled with failed nodes that were promoted past: paused, not healthy",
    input: { core: at({ step: 2 }), event: { type: "wave-settled", now: 0, failed: 1 } },
    want: {
      ok: true,
      core: at({
        step: 2,
        phase: "paused",
        pause: { kind: "failure", reason: "1 node(s) of the rollout failed" },
      }),
      effect: null,
    },
  },
  {
    desc: "a failure pauses a progressing rollout with its reason",
    input: { core: at({}), event: { type: "failure", reason: "a failed" } },
    want: { ok: true, core: pausedFail, effect: null },
  },
  {
    desc: "a second failure keeps the first reason",
    input: { core: pausedFail, event: { type: "failure", reason: "b failed" } },
    want: { ok: true, core: pausedFail, effect: null },
  },
  {
    desc: "a failure during a manual pause (drift in the pause window) turns it into a failure pause",
    input: {
      core: at({ phase: "paused", pause: { kind: "manual" } }),
      event: { type: "failure", reason: "a drifted" },
    },
    want: {
      ok: true,
      core: at({ phase: "paused", pause: { kind: "failure", reason: "a drifted" } }),
      effect: null,
    },
  },
  {
    desc: "a failure after the rollout finished changes nothing",
    input: { core: at({ step: 2, phase: "healthy" }), event: { type: "failure", reason: "x" } },
    want: { ok: true, core: at({ step: 2, phase: "healthy" }), effect: null },
  },
  {
    desc: "a settled wave does not lift a failure pause",
    input: { core: pausedFail, event: { type: "wave-settled", now: 0, failed: 1 } },
    want: { ok: true, core: pausedFail, effect: null },
  },
  {
    desc: "retry re-sends to failed nodes and progresses",
    input: { core: pausedFail, event: { type: "retry" } },
    want: { ok: true, core: at({}), effect: "retry" },
  },
  {
    desc: "promote releases the next wave",
    input: {
      core: at({ phase: "paused", pause: { kind: "manual" } }),
      event: { type: "promote", full: false },
    },
    want: { ok: true, core: at({ step: 1 }), effect: "release" },
  },
  {
    desc: "promote --full releases every wave",
    input: {
      core: at({ phase: "paused", pause: { kind: "manual" } }),
      event: { type: "promote", full: true },
    },
    want: { ok: true, core: at({ step: 2 }), effect: "release" },
  },
  {
    desc: "promote past a failure pause",
    input: { core: pausedFail, event: { type: "promote", full: false } },
    want: { ok: true, core: at({ step: 1 }), effect: "release" },
  },
  {
    desc: "promote with the last wave released is refused",
    input: { core: at({ step: 2 }), event: { type: "promote", full: false } },
    want: { ok: false, error: "the last wave is already released: retry or abort" },
  },
  {
    desc: "promote of a healthy rollout is refused",
    input: { core: at({ step: 2, phase: "healthy" }), event: { type: "promote", full: true } },
    want: { ok: false, error: "the rollout is healthy: nothing to promote" },
  },
  {
    desc: "abort reverts and degrades",
    input: { core: pausedFail, event: { type: "abort" } },
    want: { ok: true, core: at({ phase: "degraded", aborted: true }), effect: "revert" },
  },
  {
    desc: "abort of an aborted rollout is refused",
    input: { core: at({ phase: "degraded", aborted: true }), event: { type: "abort" } },
    want: {
      ok: false,
      error: "the rollout is degraded: roll back to an earlier revision instead",
    },
  },
  {
    desc: "retry of a healthy rollout is refused",
    input: { core: at({ step: 2, phase: "healthy" }), event: { type: "retry" } },
    want: { ok: false, error: "the rollout is healthy: nothing to retry" },
  },
];

describe("stepRollout", () => {
  it.each(cases)("$desc", ({ input, want }) => {
    expect(stepRollout(input.core, input.event, input.pause ?? manual)).toEqual(want);
  });
});
