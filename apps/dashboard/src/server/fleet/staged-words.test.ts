import type { RolloutInput } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { StagedRecord } from "./staged-state.js";
import { actionOf, waveNames } from "./staged-words.js";

describe("the action recorded for an input the state machine took", () => {
  // After the input: at wave 2, from revision 1.
  const s = { core: { step: 2 }, previous: { revision: 1 } } as unknown as StagedRecord;
  const cases: { desc: string; input: RolloutInput; want: ReturnType<typeof actionOf> }[] = [
    {
      desc: "a promote names the waves it released",
      input: { type: "promote", full: true },
      want: { action: "promote", detail: "released wave 1 to wave 2" },
    },
    {
      desc: "a failure pauses with its reason",
      input: { type: "failure", reason: "n-1 failed to apply: boom" },
      want: { action: "pause", detail: "n-1 failed to apply: boom" },
    },
    {
      desc: "an abort says where every node goes",
      input: { type: "abort" },
      want: { action: "abort", detail: "every node returns to revision 1" },
    },
    {
      desc: "a timed pause over",
      input: { type: "tick", now: 0 },
      want: { action: "resume", detail: "timed pause over: wave 2 released" },
    },
    {
      desc: "a wave settled is said elsewhere",
      input: { type: "wave-settled", now: 0, failed: 0 },
      want: null,
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(actionOf(input, s, 0)).toEqual(want));

  it("names waves", () => {
    expect([waveNames(0, 0), waveNames(1, 1), waveNames(0, 3)]).toEqual([
      "the canary",
      "wave 1",
      "the canary to wave 3",
    ]);
  });
});
