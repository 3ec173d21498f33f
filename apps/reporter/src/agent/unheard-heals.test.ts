import { MAX_HEAL_WHAT_CHARS, type UnheardHeals as Msg, reporterMessageSchema } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { boundedWhat, UnheardHeals } from "./unheard-heals.js";

const heal = (i: number) => ({ at: 1_000 + i, revision: 3, what: `missing RETURN ${i}` });

/** What `flush` hands over, with `accept` as the link's answer. */
function flushed(list: UnheardHeals, accept = true): Msg[] {
  const sent: Msg[] = [];
  list.flush((m) => {
    sent.push(structuredClone(m));
    return accept;
  });
  return sent;
}

describe("heals no dashboard heard", () => {
  const cases: { desc: string; input: { added: number; max?: number }; want: unknown }[] = [
    { desc: "none kept: nothing is sent", input: { added: 0 }, want: [] },
    {
      desc: "a few: one message, oldest first, none dropped",
      input: { added: 3 },
      want: [{ type: "unheard-heals", v: 2, heals: [heal(0), heal(1), heal(2)], dropped: 0 }],
    },
    {
      desc: "past the bound: the newest kept, the oldest counted",
      input: { added: 5, max: 2 },
      want: [{ type: "unheard-heals", v: 2, heals: [heal(3), heal(4)], dropped: 3 }],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const list = new UnheardHeals(input.max);
    for (let i = 0; i < input.added; i++) list.add(heal(i));
    const sent = flushed(list);
    expect(sent).toEqual(want);
    for (const m of sent) expect(reporterMessageSchema.safeParse(m).success).toBe(true);
  });

  it("keeps 16 by default, a valid message however many were made", () => {
    const list = new UnheardHeals();
    for (let i = 0; i < 40; i++) list.add(heal(i));
    expect(list.count()).toEqual({ kept: 16, dropped: 24 });
    const [m] = flushed(list);
    expect(m?.heals[0]).toEqual(heal(24));
    expect(reporterMessageSchema.safeParse(m).success).toBe(true);
  });

  it("are sent once: forgotten when written, kept when not (a dashboard that did not grant them)", () => {
    const list = new UnheardHeals();
    list.add(heal(0));
    expect(flushed(list, false)).toHaveLength(1);
    list.add(heal(1));
    expect(flushed(list, true)[0]?.heals).toEqual([heal(0), heal(1)]);
    expect(flushed(list, true)).toEqual([]);
    expect(list.count()).toEqual({ kept: 0, dropped: 0 });
  });

  it("bound what differed: one line, within the limit, null when empty", () => {
    expect(boundedWhat(null)).toBeNull();
    expect(boundedWhat(" \n ")).toBeNull();
    expect(boundedWhat("a\nb\r\n c")).toBe("a b c");
    const long = boundedWhat("é".repeat(1000));
    expect([...(long ?? "")]).toHaveLength(MAX_HEAL_WHAT_CHARS);
    expect(long?.endsWith("…")).toBe(true);
    const list = new UnheardHeals();
    list.add({ at: 1, revision: null, what: "x".repeat(5000) });
    expect(reporterMessageSchema.safeParse(flushed(list)[0]).success).toBe(true);
  });
});

describe("heals kept across a restart", () => {
  it("tells every change to what keeps them: each heal, and nothing once sent", () => {
    const told: unknown[] = [];
    const list = new UnheardHeals(2, (k) => told.push(structuredClone(k)));
    list.add(heal(0));
    list.add(heal(1));
    list.add(heal(2));
    flushed(list, false);
    flushed(list, true);
    expect(told).toEqual([
      { heals: [heal(0)], dropped: 0 },
      { heals: [heal(0), heal(1)], dropped: 0 },
      { heals: [heal(1), heal(2)], dropped: 1 },
      { heals: [], dropped: 0 },
    ]);
  });

  it("puts the restored before those made since, the oldest dropped past the bound", () => {
    const told: unknown[] = [];
    const list = new UnheardHeals(3, (k) => told.push(k));
    list.add(heal(5));
    told.length = 0;
    list.restore({ heals: [heal(1), heal(2), heal(3)], dropped: 4 });
    expect(told).toEqual([]);
    expect(list.count()).toEqual({ kept: 3, dropped: 5 });
    expect(flushed(list)[0]).toMatchObject({ heals: [heal(2), heal(3), heal(5)], dropped: 5 });
  });

  // A file that says Number.MAX_SAFE_INTEGER were dropped (its bound): one more drop made the
  // count unsafe, which neither the file nor the message takes, so no heal was told again.
  it("counts the dropped up to the largest safe integer, the message and file still valid", () => {
    const told: { dropped: number }[] = [];
    const list = new UnheardHeals(2, (k) => told.push(k));
    list.restore({ heals: [heal(1), heal(2)], dropped: Number.MAX_SAFE_INTEGER });
    list.add(heal(3));
    expect(told.at(-1)?.dropped).toBe(Number.MAX_SAFE_INTEGER);
    const [msg] = flushed(list);
    expect(msg).toMatchObject({ heals: [heal(2), heal(3)], dropped: Number.MAX_SAFE_INTEGER });
    expect(reporterMessageSchema.safeParse(msg).success).toBe(true);
  });
});
