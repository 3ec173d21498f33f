import { defaultConfig, type MasqConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { ExtraSource } from "../store/sources.js";
import type { ConfigRevision } from "../store/types.js";
import { MergedNumbering } from "./merged-desired.js";

const rev = (resourceVersion: string, revision: number): ConfigRevision => ({
  resourceVersion,
  revision,
  text: "",
  author: "a",
  updatedAt: "2026-01-01T00:00:00Z",
  message: "",
});
const cfg = (...cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });
const extra = { source: { kind: "file", name: "ip-masq-x", key: "ip-masq-x" } } as ExtraSource;

describe("MergedNumbering", () => {
  const cases: {
    desc: string;
    input: { floor: number; steps: [ConfigRevision, MasqConfig, number][] };
    want: [number, string][];
  }[] = [
    {
      desc: "the first merge is numbered above everything the store handed out",
      input: { floor: 7, steps: [[rev("5", 5), cfg("10.0.0.0/8"), 1]] },
      want: [[8, "5+1@r8"]],
    },
    {
      desc: "the same merge of the same revision keeps its number; any change takes the next",
      input: {
        floor: 1,
        steps: [
          [rev("1", 1), cfg("10.0.0.0/8"), 1],
          [rev("1", 1), cfg("10.0.0.0/8"), 1],
          [rev("1", 1), cfg("10.0.0.0/8", "100.64.0.0/10"), 2],
          [rev("2", 2), cfg("10.0.0.0/8", "100.64.0.0/10"), 2],
        ],
      },
      want: [
        [2, "1+1@r2"],
        [2, "1+1@r2"],
        [3, "1+2@r3"],
        [4, "2+2@r4"],
      ],
    },
    {
      desc: "never back: a store revision numbered lower than the last merge; the sources gone",
      input: {
        floor: 1,
        steps: [
          [rev("1", 1), cfg("10.0.0.0/8"), 1],
          [rev("1", 1), cfg("10.0.0.0/8", "192.0.2.0/24"), 1],
          [rev("2", 2), cfg("172.16.0.0/12"), 1],
          [rev("2", 2), cfg("10.0.0.0/8"), 0],
        ],
      },
      want: [
        [2, "1+1@r2"],
        [3, "1+1@r3"],
        [4, "2+1@r4"],
        [5, "2"],
      ],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const n = new MergedNumbering(input.floor);
    const got = input.steps.map(([r, c, extras]) => {
      const d = n.desired(
        r,
        c,
        Array.from({ length: extras }, () => extra),
      );
      return [d.revision, d.resourceVersion];
    });
    expect(got).toEqual(want);
    expect(n.used).toBe(true);
  });
});
