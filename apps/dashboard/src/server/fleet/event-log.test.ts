import type { NodeEvent } from "@masq/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventLog, MAX_EVENTS } from "./event-log.js";

/** `count` events with times 1, 2, … and kinds/texts naming them. */
const events = (count: number, from = 1): NodeEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    time: 1_764_000_000_000 + from + i,
    kind: (from + i) % 2 ? "desired-sent" : "status",
    message: `event ${from + i}`,
  }));

function logOf(input: readonly NodeEvent[]): EventLog {
  const log = new EventLog();
  for (const e of input) log.add(e.time, e.kind, e.message);
  return log;
}

/** An array model of EventLog.add (fold false) and EventLog.fold. */
function foldModel(model: NodeEvent[], e: NodeEvent, fold: boolean): void {
  if (fold && model.at(-1)?.kind === e.kind) model[model.length - 1] = e;
  else model.push(e);
  if (model.length > MAX_EVENTS) model.shift();
}

/** What the node record's plain array kept before (push, then drop the oldest past 50). */
function previousTimeline(input: readonly NodeEvent[]): NodeEvent[] {
  const out: NodeEvent[] = [];
  for (const e of input) {
    out.push({ ...e });
    if (out.length > 50) out.splice(0, out.length - 50);
  }
  return out;
}

describe("EventLog", () => {
  const cases: { desc: string; input: NodeEvent[]; want: NodeEvent[] }[] = [
    { desc: "no event", input: [], want: [] },
    { desc: "one event", input: events(1), want: events(1) },
    { desc: "fewer than the limit, in order", input: events(7), want: events(7) },
    { desc: "exactly the limit", input: events(MAX_EVENTS), want: events(MAX_EVENTS) },
    {
      desc: "one past the limit drops the oldest",
      input: events(MAX_EVENTS + 1),
      want: events(MAX_EVENTS, 2),
    },
    {
      desc: "around the ring more than twice",
      input: events(2 * MAX_EVENTS + 7),
      want: events(MAX_EVENTS, MAX_EVENTS + 8),
    },
    {
      desc: "the same kind and text at other times stay separate events",
      input: [
        { time: 5, kind: "status", message: "in-sync → applying" },
        { time: 9, kind: "status", message: "in-sync → applying" },
      ],
      want: [
        { time: 5, kind: "status", message: "in-sync → applying" },
        { time: 9, kind: "status", message: "in-sync → applying" },
      ],
    },
    {
      desc: "the same text under another kind keeps its kind",
      input: [
        { time: 1, kind: "applied", message: "x" },
        { time: 2, kind: "apply-failed", message: "x" },
      ],
      want: [
        { time: 1, kind: "applied", message: "x" },
        { time: 2, kind: "apply-failed", message: "x" },
      ],
    },
    {
      desc: "times keep their fraction and sign",
      input: [{ time: -0.5, kind: "k", message: "m" }],
      want: [{ time: -0.5, kind: "k", message: "m" }],
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const log = logOf(input);
      expect(log.list()).toEqual(want);
      expect(log.newestFirst()).toEqual([...want].reverse());
      expect(log.size).toBe(want.length);
    });

  it("answers as the previous timeline did, for any sequence of events", () => {
    const event = fc.record({
      time: fc.double({ noNaN: true }),
      kind: fc.constantFrom("connected", "desired-sent", "applied", "status"),
      message: fc.string({ maxLength: 8 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 3 * MAX_EVENTS }), (input) => {
        const log = logOf(input);
        expect(log.list()).toEqual(previousTimeline(input));
        expect(log.newestFirst()).toEqual(previousTimeline(input).reverse());
      }),
    );
  });

  it("hands out copies: changing an answer changes nothing held", () => {
    const log = logOf(events(3));
    const first = log.list();
    first[0]!.message = "changed";
    first.pop();
    expect(log.list()).toEqual(events(3));
  });

  it("keeps each node's timeline apart", () => {
    const a = logOf(events(3));
    const b = logOf(events(2, 100));
    expect(a.list()).toEqual(events(3));
    expect(b.list()).toEqual(events(2, 100));
  });

  it("folds an event into the newest one of its kind, as an array model does, across the ring", () => {
    const step = fc.record({
      fold: fc.boolean(),
      time: fc.double({ noNaN: true }),
      kind: fc.constantFrom("drift", "status"),
      message: fc.string({ maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3 * MAX_EVENTS }), (steps) => {
        const log = new EventLog();
        const model: NodeEvent[] = [];
        for (const { fold, ...e } of steps) {
          foldModel(model, e, fold);
          if (fold) log.fold(e.time, e.kind, e.message);
          else log.add(e.time, e.kind, e.message);
        }
        expect(log.list()).toEqual(model);
      }),
    );
  });
});

describe("EventLog.restore", () => {
  const before = events(3);
  const marked = before.map((e) => ({ ...e, beforeRestart: true }));

  it("puts the events kept from before first, marked, then this run's", () => {
    const log = new EventLog();
    log.restore(before);
    log.add(1_764_100_000_000, "restored", "known from before the dashboard restarted");
    const list = log.list();
    expect(list.slice(0, 3)).toEqual(marked);
    expect(list[3]).toEqual({
      time: 1_764_100_000_000,
      kind: "restored",
      message: "known from before the dashboard restarted",
    });
    expect(log.newestFirst().at(-1)).toEqual(marked[0]);
  });

  it("ages them out first as new events come, as any other", () => {
    const log = new EventLog();
    log.restore(before);
    for (const e of events(MAX_EVENTS - 1, 100)) log.add(e.time, e.kind, e.message);
    expect(log.list().filter((e) => e.beforeRestart)).toEqual(marked.slice(2));
    log.add(1_764_100_000_000, "status", "one more");
    expect(log.list().filter((e) => e.beforeRestart)).toEqual([]);
    expect(log.size).toBe(MAX_EVENTS);
  });

  it("never folds a new event into one from before", () => {
    const log = new EventLog();
    log.restore([{ time: 1, kind: "drift", message: "drifted then" }]);
    log.fold(2, "drift", "drifted now");
    expect(log.list()).toEqual([
      { time: 1, kind: "drift", message: "drifted then", beforeRestart: true },
      { time: 2, kind: "drift", message: "drifted now" },
    ]);
  });

  it("keeps only the newest MAX_EVENTS, the kept ones before those held", () => {
    const log = new EventLog();
    log.add(5, "connected", "now");
    log.restore(events(MAX_EVENTS));
    const list = log.list();
    expect(list).toHaveLength(MAX_EVENTS);
    expect(list.at(-1)).toEqual({ time: 5, kind: "connected", message: "now" });
    expect(list.slice(0, -1)).toEqual(
      events(MAX_EVENTS)
        .slice(1)
        .map((e) => ({ ...e, beforeRestart: true })),
    );
  });

  it("eachTaken gives the newest, oldest first", () => {
    const log = logOf(events(MAX_EVENTS + 5));
    const seen: string[] = [];
    log.eachTaken(
      3,
      () => true,
      (_t, _k, m) => seen.push(m),
    );
    expect(seen).toEqual(events(3, MAX_EVENTS + 3).map((e) => e.message));
  });

  it("eachTaken reaches back past the events it does not take, asking newest first", () => {
    const log = logOf(events(MAX_EVENTS + 5));
    const seen: string[] = [];
    const asked: string[] = [];
    const take = (kind: string) => asked.push(kind) > 0 && kind === "status";
    log.eachTaken(2, take, (_t, _k, m) => seen.push(m));
    // Events 55 (desired-sent), 54 (status), 53, 52 (status): taken 52 and 54, oldest first.
    expect(seen).toEqual(["event 52", "event 54"]);
    expect(asked).toEqual(["desired-sent", "status", "desired-sent", "status"]);
  });
});
