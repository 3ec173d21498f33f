import { describe, expect, it } from "vitest";
import { RulesDigestCache } from "./rules-digest-cache.js";

type Op = ["put", string, number] | ["get", string];

describe("RulesDigestCache", () => {
  const cases: {
    desc: string;
    input: { max: { maxEntries: number; maxChars: number }; ops: Op[] };
    want: { held: string[]; chars: number };
  }[] = [
    {
      desc: "keeps what fits",
      input: {
        max: { maxEntries: 3, maxChars: 100 },
        ops: [
          ["put", "a", 10],
          ["put", "b", 10],
        ],
      },
      want: { held: ["a", "b"], chars: 20 },
    },
    {
      desc: "drops the least recently used past the entry bound",
      input: {
        max: { maxEntries: 2, maxChars: 100 },
        ops: [
          ["put", "a", 1],
          ["put", "b", 1],
          ["get", "a"],
          ["put", "c", 1],
        ],
      },
      want: { held: ["a", "c"], chars: 2 },
    },
    {
      desc: "drops the oldest until the characters fit",
      input: {
        max: { maxEntries: 10, maxChars: 100 },
        ops: [
          ["put", "a", 40],
          ["put", "b", 40],
          ["put", "c", 40],
        ],
      },
      want: { held: ["b", "c"], chars: 80 },
    },
    {
      desc: "never keeps content larger than the whole budget",
      input: {
        max: { maxEntries: 10, maxChars: 100 },
        ops: [
          ["put", "a", 10],
          ["put", "big", 101],
        ],
      },
      want: { held: ["a"], chars: 10 },
    },
    {
      desc: "a digest put again is counted once",
      input: {
        max: { maxEntries: 10, maxChars: 100 },
        ops: [
          ["put", "a", 10],
          ["put", "a", 10],
        ],
      },
      want: { held: ["a"], chars: 10 },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const c = new RulesDigestCache<string>(input.max);
    for (const op of input.ops) op[0] === "put" ? c.put(op[1], `v-${op[1]}`, op[2]) : c.get(op[1]);
    const held = ["a", "b", "c", "big"].filter((d) => c.get(d) !== undefined);
    expect(held).toEqual(want.held);
    expect(c.chars).toBe(want.chars);
    expect(c.size).toBe(want.held.length);
  });

  it("counts hits and misses", () => {
    const c = new RulesDigestCache<string>();
    c.put("a", "x", 1);
    expect([c.get("a"), c.get("b")]).toEqual(["x", undefined]);
    expect([c.hits, c.misses]).toEqual([1, 1]);
  });
});
