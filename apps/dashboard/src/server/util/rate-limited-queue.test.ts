import { describe, expect, it } from "vitest";
import { RateLimitedQueue } from "./rate-limited-queue.js";

describe("RateLimitedQueue lanes", () => {
  const cases: {
    desc: string;
    input: [key: string, value: string, first?: boolean][];
    want: string[];
  }[] = [
    {
      desc: "in the order put",
      input: [
        ["a", "1"],
        ["b", "1"],
        ["c", "1"],
      ],
      want: ["a=1", "b=1", "c=1"],
    },
    {
      desc: "keys put first go before the others, in their own order",
      input: [
        ["a", "1"],
        ["b", "1"],
        ["c", "1", true],
        ["d", "1", true],
      ],
      want: ["a=1", "c=1", "d=1", "b=1"],
    },
    {
      desc: "a key waiting first stays first when put again, its newest value kept",
      input: [
        ["a", "1"],
        ["b", "1"],
        ["c", "1", true],
        ["c", "2"],
      ],
      want: ["a=1", "c=2", "b=1"],
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    // One at a time: the first put is worked on at once, the others wait for it.
    const done: string[] = [];
    const q = new RateLimitedQueue<string>({
      ratePerSecond: 1000,
      inFlight: 1,
      work: async (key, value) => void done.push(`${key}=${value}`),
    });
    for (const [k, v, first] of input) q.put(k, v, first);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toEqual(want);
    expect(q.size).toBe(0);
    q.close();
  });
});
