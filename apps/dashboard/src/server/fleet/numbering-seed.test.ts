import { defaultConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { NumberingSeed } from "../config/merged-desired.js";
import { numberingSeedOf, readNumberingSeed } from "./numbering-seed.js";

const cfg = (cidr: string) => ({ ...defaultConfig(), nonMasqueradeCIDRs: [cidr] });
const record = (over: object = {}) => ({
  version: 1,
  resourceVersion: "9+1@r11",
  revision: 11,
  previous: { resourceVersion: "9+1@r10", revision: 10 },
  config: cfg("10.20.0.0/16"),
  previousConfig: cfg("10.0.0.0/8"),
  strategy: { kind: "waves", canary: { count: 1 }, waves: [100], pause: { kind: "manual" } },
  bounds: { last: ["a", "b"] },
  core: { step: 0, lastStep: 1, phase: "paused", pause: null, aborted: true },
  failed: {},
  actions: [],
  startedAt: 1,
  startedBy: "alice",
  ...over,
});
const past = (resourceVersion: string, supersededBy?: number) => ({
  resourceVersion,
  phase: "healthy",
  aborted: false,
  actions: [],
  ...(supersededBy === undefined ? {} : { supersededBy }),
});

describe("numberingSeedOf", () => {
  const cases: { desc: string; input: unknown; want: NumberingSeed | undefined }[] = [
    {
      desc: "an aborted merged rollout: its merge and the one before it, with their configs",
      input: { version: 2, current: record(), past: [] },
      want: {
        known: [
          { revision: 11, resourceVersion: "9+1@r11", config: cfg("10.20.0.0/16") },
          { revision: 10, resourceVersion: "9+1@r10", config: cfg("10.0.0.0/8") },
        ],
        highest: 11,
      },
    },
    {
      desc: "past rollouts' merged numbers, superseding saves and `begun` raise the highest",
      input: {
        version: 2,
        begun: 14,
        current: null,
        past: [past("7+2@r17"), past("12", 13), past("3")],
      },
      want: { known: [], highest: 17 },
    },
    {
      desc: "a record without configs (one source) names numbers only",
      input: {
        version: 2,
        current: record({
          resourceVersion: "5",
          revision: 5,
          config: undefined,
          previousConfig: undefined,
          previous: { resourceVersion: "4", revision: 4 },
        }),
        past: [],
      },
      want: { known: [], highest: 5 },
    },
    { desc: "not a state: no seed (restore says why)", input: { version: 3 }, want: undefined },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(numberingSeedOf(input)).toEqual(want);
  });
});

describe("readNumberingSeed", () => {
  it("seeds nothing when the store has no rollout state, none persisted, or the read fails", async () => {
    expect(await readNumberingSeed(undefined)).toBeUndefined();
    expect(await readNumberingSeed(async () => null)).toBeUndefined();
    expect(
      await readNumberingSeed(async () => {
        throw new Error("API server down");
      }),
    ).toBeUndefined();
    const raw = { version: 2, current: null, past: [past("1+1@r3")] };
    expect(await readNumberingSeed(async () => raw)).toEqual({ known: [], highest: 3 });
  });
});
