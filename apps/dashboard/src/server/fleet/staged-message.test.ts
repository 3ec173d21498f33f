// The sentence above the waves: a timed wait between waves is no pause to act on, and its end is
// the view's pause.until (shown by the UI in the browser's time zone), never a UTC timestamp.
import type { RolloutCore } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { messageOf, type StagedState } from "./staged-state.js";

const state = (core: Partial<RolloutCore>): StagedState =>
  ({
    revision: 3,
    previous: { revision: 2 },
    waves: [["a"], ["b"]],
    core: { step: 0, lastStep: 1, phase: "paused", pause: null, aborted: false, ...core },
  }) as unknown as StagedState;

describe("messageOf", () => {
  it.each([
    {
      desc: "a timed wait",
      core: { pause: { kind: "duration" as const, until: Date.UTC(2026, 11, 3, 16, 17, 55, 555) } },
      want: "the canary applied; the next wave starts by itself after the wait between waves",
    },
    {
      desc: "a manual pause",
      core: { pause: { kind: "manual" as const } },
      want: "the canary applied; paused until promoted",
    },
    {
      desc: "a failure",
      core: { pause: { kind: "failure" as const, reason: "a failed to apply" } },
      want: "paused: a failed to apply",
    },
  ])("$desc", ({ core, want }) => expect(messageOf(state(core))).toBe(want));
});
