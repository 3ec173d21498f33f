// A step of the wall clock (NTP correcting it, a VM resumed) must not change what the dashboard
// believes about its reporters: one that sent a frame a second ago is not "silent" (status
// unknown) and its apply in flight is not timed out; one quiet for 40 s is silent whatever the
// step. Silence and apply timeouts are on the monotonic clock; the wall clock here is stepped
// while the monotonic one runs on.
import { defaultConfig } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import { FleetState } from "./fleet-state.js";

const MINUTE = 60_000;
const steps = [
  { desc: "forward 1 min", step: MINUTE },
  { desc: "backward 1 min", step: -MINUTE },
  { desc: "none", step: 0 },
];
const nodes = [
  {
    desc: "a live reporter, an apply in flight",
    quietMs: 1_000,
    want: { silent: false, applying: true },
  },
  { desc: "a hung reporter", quietMs: 40_000, want: { silent: true, applying: false } },
];
const cases = steps.flatMap((s) =>
  nodes.map((n) => ({
    desc: `${s.desc}: ${n.desc}`,
    input: { step: s.step, quietMs: n.quietMs },
    want: n.want,
  })),
);

/** One node connected, sent revision 2, then quiet `quietMs` across a wall-clock step. */
function run(input: { step: number; quietMs: number }) {
  let wall = 1_000_000;
  let mono = 0;
  let desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
  const fleet = new FleetState({
    desired: () => desired,
    feed: new ChangeFeed(250, () => {}),
    log: silentLogger(),
    heartbeatMs: 10_000,
    applyTimeoutMs: 30_000,
    now: () => wall,
    monotonic: () => mono,
  });
  fleet.connect(helloFor("a", { mode: "enforce" }), { send: () => {}, close: () => {} });
  desired = { ...desired, revision: 2, resourceVersion: "2" };
  fleet.desiredChanged(desired);
  wall += input.step;
  wall += input.quietMs;
  mono += input.quietMs;
  fleet.sweep();
  const n = fleet.nodes.get("a")!;
  return { silent: n.silent, applying: n.pending !== null };
}

describe("reporter silence and apply timeouts across a wall-clock step", () => {
  for (const { desc, input, want } of cases)
    it(desc, () => {
      expect(run(input)).toEqual(want);
    });
});
