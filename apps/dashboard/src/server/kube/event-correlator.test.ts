import { describe, expect, it } from "vitest";
import { EventCorrelator, eventName, Lru, type RecordedEvent } from "./event-correlator.js";

function event(over: Partial<RecordedEvent> = {}): RecordedEvent {
  const at = new Date(0);
  return {
    namespace: "default",
    name: eventName("node-a", 0),
    involvedObject: { kind: "Node", name: "node-a", uid: "node-a" },
    type: "Warning",
    reason: "Drifted",
    message: "2 differences",
    source: { component: "ipmasq-dashboard" },
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
    ...over,
  };
}

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

describe("EventCorrelator (client-go EventCorrelator defaults)", () => {
  it("counts a repeated event as a patch of the first one: count, lastTimestamp, message", () => {
    const c = clock();
    const cor = new EventCorrelator({}, c.now);
    const first = cor.correlate(event());
    expect(first).toMatchObject({ skip: false, event: { count: 1 } });
    if (first.skip) return;
    cor.updateState({ ...first.event, resourceVersion: "7" });
    c.t += 5000;
    const again = cor.correlate(event({ name: "other", lastTimestamp: new Date(c.t) }));
    expect(again).toEqual({
      skip: false,
      event: expect.objectContaining({ name: first.event.name, resourceVersion: "7", count: 2 }),
      patch: { count: 2, lastTimestamp: new Date(c.t).toISOString(), message: "2 differences" },
    });
  });

  const aggregation = [
    { desc: "9 distinct messages stay apart", distinct: 9, want: { combined: 0 } },
    { desc: "the 10th distinct message is combined", distinct: 10, want: { combined: 1 } },
    { desc: "later ones patch the combined event", distinct: 12, want: { combined: 3 } },
  ];
  it.each(aggregation)("aggregation: $desc", ({ distinct, want }) => {
    const c = clock();
    const cor = new EventCorrelator({}, c.now);
    const out = Array.from({ length: distinct }, (_, i) => {
      c.t += 1000;
      return cor.correlate(event({ message: `differences: ${i}` }));
    });
    const combined = out.filter(
      (r) => !r.skip && r.event.message.startsWith("(combined from similar events): "),
    );
    expect(combined).toHaveLength(want.combined);
    // The combined event is one object: created once, then counted.
    expect(combined.map((r) => !r.skip && r.event.count)).toEqual(
      Array.from({ length: want.combined }, (_, i) => i + 1),
    );
  });

  it("aggregation starts over after 600 s without a similar event", () => {
    const c = clock();
    const cor = new EventCorrelator({}, c.now);
    for (let i = 0; i < 9; i++) cor.correlate(event({ message: `m${i}` }));
    c.t += 600_001;
    const r = cor.correlate(event({ message: "m9" }));
    expect(!r.skip && r.event.message).toBe("m9");
  });

  it("spam filter: 25 events per source and object, then one per 300 s; other objects unaffected", () => {
    const c = clock();
    const cor = new EventCorrelator({}, c.now);
    const send = (name: string, i: number) =>
      cor.correlate(
        event({ involvedObject: { kind: "Node", name, uid: name }, message: `m${i % 3}` }),
      );
    const passed = Array.from({ length: 30 }, (_, i) => send("node-a", i)).filter((r) => !r.skip);
    expect(passed).toHaveLength(25);
    expect(send("node-b", 0).skip).toBe(false);
    c.t += 299_000;
    expect(send("node-a", 0).skip).toBe(true);
    c.t += 2_000;
    expect(send("node-a", 0).skip).toBe(false);
    expect(send("node-a", 0).skip).toBe(true);
  });

  it("replay: a throttled event tried again keeps the count it got, and waits for a token", () => {
    const c = clock();
    const cor = new EventCorrelator({ spamBurst: 1, spamQps: 1 }, c.now);
    const first = cor.correlate(event());
    if (first.skip) throw new Error("the first event passes");
    cor.updateState({ ...first.event, name: "node-a.1", resourceVersion: "7" });
    expect(cor.correlate(event()).skip).toBe(true);
    expect(cor.replay(event()).skip).toBe(true);
    c.t += 1_000;
    const r = cor.replay(event());
    expect(!r.skip && [r.event.name, r.event.count, r.patch?.count]).toEqual(["node-a.1", 2, 2]);
  });

  it("Normal and Warning events of one object have their own buckets", () => {
    const cor = new EventCorrelator({}, clock().now);
    for (let i = 0; i < 25; i++) cor.correlate(event({ type: "Normal", reason: "Applied" }));
    expect(cor.correlate(event({ type: "Normal", reason: "Applied" })).skip).toBe(true);
    expect(cor.correlate(event()).skip).toBe(false);
  });
});

describe("Lru", () => {
  it("drops the least recently used entry past its size", () => {
    const l = new Lru<number>(2);
    l.set("a", 1);
    l.set("b", 2);
    l.get("a");
    l.set("c", 3);
    expect([l.get("a"), l.get("b"), l.get("c"), l.size]).toEqual([1, undefined, 3, 2]);
  });
});

// The spam filter and the aggregation window measure elapsed time on the monotonic clock (the
// wall one stays for the events' times and names): a wall step forward refilled every
// object's bucket at once and restarted every aggregation window.
describe("EventCorrelator across a wall-clock step", () => {
  for (const step of [10 * 60_000, -10 * 60_000])
    it(`stepped ${step > 0 ? "forward" : "back"} 10 min: the bucket waits, then refills`, () => {
      const clocks = { wall: 1_000_000, mono: 0 };
      const cor = new EventCorrelator(
        { spamBurst: 1, spamQps: 1 },
        () => clocks.wall,
        () => clocks.mono,
      );
      expect(cor.correlate(event()).skip).toBe(false);
      clocks.wall += step + 100;
      clocks.mono += 100;
      expect(cor.correlate(event()).skip).toBe(true);
      clocks.wall += 1_000;
      clocks.mono += 1_000;
      expect(cor.correlate(event()).skip).toBe(false);
    });
});
