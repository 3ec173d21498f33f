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

describe("RateLimitedQueue first lane (break7)", () => {
  it("does not starve the other keys when keys put first keep coming back (a flapping node)", async () => {
    const done: string[] = [];
    const q = new RateLimitedQueue<string>({
      ratePerSecond: 1000,
      inFlight: 1,
      work: async (key, value) => {
        done.push(key);
        // A reporter flapping between replicas: each reconnect is a takeover, queued first.
        if (key.startsWith("flap")) q.put(key, value, true);
      },
    });
    q.put("flap-1", "1", true);
    q.put("flap-2", "1", true);
    q.put("other", "1");
    await new Promise((r) => setTimeout(r, 50));
    q.close();
    expect(done.length).toBeGreaterThan(10);
    expect(done).toContain("other");
    // Each flapping key had one turn first, then waits its turn with the others (flap-1 was put
    // again, with the others, before "other" was put at all).
    expect(done.slice(0, 4)).toEqual(["flap-1", "flap-2", "flap-1", "other"]);
  });

  it("a mass reconnect (many keys, each put first once) all goes before the others", async () => {
    const done: string[] = [];
    const q = new RateLimitedQueue<string>({
      ratePerSecond: 1000,
      inFlight: 1,
      work: async (key) => void done.push(key),
    });
    q.put("busy", "1"); // worked on at once: the others wait for it
    q.put("other", "1");
    const moved = Array.from({ length: 20 }, (_, i) => `moved-${i}`);
    for (const k of moved) q.put(k, "1", true);
    await new Promise((r) => setTimeout(r, 30));
    q.close();
    expect(done).toEqual(["busy", ...moved, "other"]);
  });

  it("a key whose turn first failed (unnoteFirst) goes first again when put back", async () => {
    const done: string[] = [];
    let failOnce = true;
    const q: RateLimitedQueue<string> = new RateLimitedQueue<string>({
      ratePerSecond: 1000,
      inFlight: 1,
      work: async (key, value) => {
        done.push(key);
        if (key === "moved" && failOnce) {
          failOnce = false;
          q.put("other", "1");
          q.unnoteFirst(key); // as StatusWriter does before its retry
          q.put(key, value, true);
        }
      },
    });
    q.put("moved", "1", true);
    await new Promise((r) => setTimeout(r, 20));
    q.close();
    expect(done).toEqual(["moved", "moved", "other"]);
  });
});
