import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { ResyncRequests } from "./resync-requests.js";

function requests(o: { rate: number; max?: number; fail?: Set<string> }) {
  const sent: { name: string; by: string; at: number }[] = [];
  const q = new ResyncRequests({
    ratePerSecond: o.rate,
    max: o.max,
    log: silentLogger(),
    send: async (name, by) => {
      if (o.fail?.has(name)) throw new Error("503");
      sent.push({ name, by, at: Date.now() });
    },
  });
  return { q, sent };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe("ResyncRequests", () => {
  it("writes a burst at once and the rest at the rate, oldest first", async () => {
    const { q, sent } = requests({ rate: 10 });
    for (let i = 0; i < 15; i++) expect(q.ask(`n-${i}`, "alice")).toBe(true);
    await settle();
    expect(sent.map((s) => s.name)).toEqual(Array.from({ length: 10 }, (_, i) => `n-${i}`));
    expect(q.backlog()).toEqual({ waiting: 5, perSecond: 10, drainSeconds: 1 });
    await new Promise((r) => setTimeout(r, 700));
    expect(sent).toHaveLength(15);
    expect(sent.at(-1)!.name).toBe("n-14");
    expect(sent.at(-1)!.at - sent[9]!.at).toBeGreaterThanOrEqual(400);
    q.close();
  });

  const table = [
    {
      desc: "a node asked twice while waiting is asked once, by the newest asker",
      input: { asks: ["a", "b", "c", "b"], max: 10 },
      want: { accepted: [true, true, true, true], waiting: 2, sent: ["a:0", "c:2", "b:3"] },
    },
    {
      desc: "a full queue refuses new nodes but takes a node already waiting",
      input: { asks: ["a", "b", "c", "d", "c"], max: 2 },
      want: { accepted: [true, true, true, false, true], waiting: 2, sent: ["a:0", "b:1", "c:4"] },
    },
  ];
  for (const { desc, input, want } of table)
    it(desc, async () => {
      // Rate 1, burst 1: the first is written at once, the others wait a second each.
      const { q, sent } = requests({ rate: 1, max: input.max });
      expect(input.asks.map((n, i) => q.ask(n, String(i)))).toEqual(want.accepted);
      expect(q.backlog().waiting).toBe(want.waiting);
      await new Promise((r) => setTimeout(r, 2_200));
      expect(sent.map((s) => `${s.name}:${s.by}`)).toEqual(want.sent);
      q.close();
    });

  it("counts a failed write and goes on", async () => {
    const { q, sent } = requests({ rate: 100, fail: new Set(["bad"]) });
    q.ask("bad", "x");
    q.ask("good", "x");
    await settle();
    expect(sent.map((s) => s.name)).toEqual(["good"]);
    expect(q.stats).toEqual({ written: 1, failed: 1 });
    q.close();
  });
});
