// A step of the wall clock (NTP correcting it, a VM resumed) between a node's apply and its
// going offline must not change the verdict: a forward step made "went offline 2 s after
// applying" look like a minute after, and the suspicion was missed (the wave went on); a
// backward one called it "0 s after". Local durations are on the monotonic clock; here the
// wall clock (the fixture's `now`) is stepped while the monotonic one runs on.
import { describe, expect, it } from "vitest";
import { RECONNECT_GRACE_MS } from "./staged-offline.js";
import { applied, sent, setup, v2, WAVES } from "./staged-rollout.fixture.js";

const MINUTE = 60_000;
const cases = [
  { desc: "forward 1 min", input: MINUTE },
  { desc: "backward 1 min", input: -MINUTE },
  { desc: "none", input: 0 },
].map((c) => ({
  ...c,
  want: {
    kind: "failure",
    reason: (canary: string) =>
      `${canary} went offline 2 s after applying, and did not reconnect within 15 s`,
  },
}));

describe("an offline node soon after applying, across a wall-clock step", () => {
  for (const { desc, input, want } of cases) {
    it(`${desc}: still suspected, 2 s after applying`, () => {
      let mono = 0;
      const t = setup(["a", "b", "c"], [], { reason: null }, { monotonic: () => mono });
      const run = (ms: number) => {
        t.advance(ms);
        mono += ms;
      };
      t.save(v2);
      applied(t.fleet, t.canary, 2);
      run(1000);
      t.advance(input); // the step: the wall clock only
      run(1000);
      t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
      run(RECONNECT_GRACE_MS);
      t.staged.tick();
      expect(t.staged.view()!.pause).toEqual({ kind: want.kind, reason: want.reason(t.canary) });
    });
  }
});

// A save's strategy is noted just before the store takes it and found again when the store
// reports the revision; it is kept 2 min. Kept on the wall clock, a forward step between the two
// dropped it, and a save asked in waves went to every node at once where the store keeps no
// strategy beside the revision (the file store: the intent is all that carries it).
describe("a save's strategy, across a wall-clock step between the save and its revision", () => {
  for (const step of [10 * MINUTE, -10 * MINUTE]) {
    it(`${step > 0 ? "forward" : "backward"} 10 min: still staged, the canary alone sent it`, () => {
      const t = setup(["a", "b", "c"], [], { reason: null }, { monotonic: () => 0 });
      t.staged.intend("text", WAVES);
      t.advance(step); // the wall clock only
      t.save(v2, { kind: "all-at-once" });
      expect(t.staged.view()).toMatchObject({ phase: "progressing", revision: 2 });
      expect(sent(t.links.get(t.canary)!)).toContain(2);
      for (const n of t.rest) expect(sent(t.links.get(n)!)).not.toContain(2);
    });
  }
});

// A timed pause between waves is a soak time: a wall clock stepped forward released the next
// wave at once (no soak), one stepped back held it for the step's length more.
describe("a timed pause across a wall-clock step", () => {
  const steps = [
    { desc: "forward 1 h", input: 60 * MINUTE },
    { desc: "backward 1 h", input: -60 * MINUTE },
    { desc: "none", input: 0 },
  ];
  for (const { desc, input } of steps) {
    it(`${desc}: the next wave goes after 30 s of the pause, not before`, () => {
      let mono = 0;
      const t = setup(["a", "b", "c"], [], { reason: null }, { monotonic: () => mono });
      const run = (ms: number) => {
        t.advance(ms);
        mono += ms;
        t.staged.tick();
      };
      t.save(v2, { ...WAVES, pause: { kind: "duration", seconds: 30 } });
      applied(t.fleet, t.canary, 2);
      run(1000);
      t.advance(input); // the step: the wall clock only
      run(28_000);
      expect(t.staged.view()).toMatchObject({ step: 0, phase: "paused" });
      run(1000);
      expect(t.staged.view()).toMatchObject({ step: 1, phase: "progressing" });
    });
  }
});

// The suspect's time is on the monotonic clock (ms since the process started, in production):
// the view showed it as a date, "judged at 1970-01-01T00:00:16.000Z".
describe("an offline suspect's judgement time is shown on the wall clock", () => {
  it("the end of its reconnect window as a date of now, not of the monotonic clock", () => {
    const mono = 1000;
    const t = setup(["a", "b", "c"], [], { reason: null }, { monotonic: () => mono });
    t.advance(Date.UTC(2026, 0, 1)); // the wall: a date; the monotonic clock: since start
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    const at = new Date(t.now() + RECONNECT_GRACE_MS).toISOString();
    expect(t.staged.view()!.message).toContain(`judged at ${at}`);
  });
});
