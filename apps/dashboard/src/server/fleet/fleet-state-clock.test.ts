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
import { type FleetOptions, FleetState } from "./fleet-state.js";
import { okResult, rulesOf, snap } from "./post-apply.fixture.js";

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

/** The two clocks a test moves: the wall one stepped, the monotonic one running on. */
interface Clocks {
  wall: number;
  mono: number;
}

/** A fleet on `clocks` (10 s heartbeats, 30 s apply timeout). */
function clockedFleet(desired: FleetOptions["desired"], clocks: Clocks): FleetState {
  return new FleetState({
    desired,
    feed: new ChangeFeed(250, () => {}),
    log: silentLogger(),
    heartbeatMs: 10_000,
    applyTimeoutMs: 30_000,
    now: () => clocks.wall,
    monotonic: () => clocks.mono,
  });
}

/** One node connected, sent revision 2, then quiet `quietMs` across a wall-clock step. */
function run(input: { step: number; quietMs: number }) {
  const clocks = { wall: 1_000_000, mono: 0 };
  let desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
  const fleet = clockedFleet(() => desired, clocks);
  fleet.connect(helloFor("a", { mode: "enforce" }), { send: () => {}, close: () => {} });
  desired = { ...desired, revision: 2, resourceVersion: "2" };
  fleet.desiredChanged(desired);
  clocks.wall += input.step + input.quietMs;
  clocks.mono += input.quietMs;
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

// A resync that rewrote the rules waits VERIFY_GRACE_MS (2 s) for the snapshot that shows them,
// `applying` meanwhile. On the wall clock, a step forward ended the wait at once (the held
// pre-resync rules judged as the answer) and a step back held the node `applying` for the step.
describe("the wait for a changed apply's rules across a wall-clock step", () => {
  const cases = steps.flatMap((s) => [
    { desc: `${s.desc}: 1 s after, still waiting`, step: s.step, afterMs: 1_000, want: "applying" },
    { desc: `${s.desc}: 3 s after, judged`, step: s.step, afterMs: 3_000, want: "in-sync" },
  ]);
  for (const c of cases)
    it(c.desc, () => {
      const clocks = { wall: 1_000_000, mono: 0 };
      const v1 = { revision: 1, resourceVersion: "1", config: defaultConfig() };
      const fleet = clockedFleet(() => v1, clocks);
      fleet.connect(helloFor("a", { appliedRevision: 1 }), { send: () => {}, close: () => {} });
      fleet.snapshot("a", snap(1, rulesOf(defaultConfig())));
      fleet.applyResult("a", okResult(1, "desired", false));
      clocks.wall += 100;
      clocks.mono += 100;
      expect(fleet.resync("a").ok).toBe(true);
      fleet.applyResult("a", okResult(1, "resync", true));
      expect(fleet.nodes.get("a")!.status).toBe("applying");
      clocks.wall += c.step + c.afterMs;
      clocks.mono += c.afterMs;
      fleet.sweep();
      expect(fleet.nodes.get("a")!.status).toBe(c.want);
      fleet.close();
    });
});

// Whether the snapshot held came after the apply was sent decides if an apply that changed the
// rules has its answer already. Compared on the wall clock, a step back between the send and
// the post-apply snapshot took that snapshot for an older one: the node waited 2 s `applying`
// for rules it had reported (and a step forward could take a pre-resync snapshot for the answer).
describe("a post-apply snapshot received across a wall-clock step back", () => {
  it("is the apply's answer: judged at once, not waited for", () => {
    const clocks = { wall: 1_000_000, mono: 0 };
    const v1 = { revision: 1, resourceVersion: "1", config: defaultConfig() };
    const v2 = {
      revision: 2,
      resourceVersion: "2",
      config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
    };
    let desired = v1;
    const fleet = clockedFleet(() => desired, clocks);
    fleet.connect(helloFor("a", { appliedRevision: 1 }), { send: () => {}, close: () => {} });
    fleet.snapshot("a", snap(1, rulesOf(v1.config)));
    fleet.applyResult("a", okResult(1, "desired", false));
    desired = v2;
    fleet.desiredChanged(v2);
    clocks.wall -= MINUTE;
    clocks.mono += 100;
    fleet.snapshot("a", snap(2, rulesOf(v2.config)));
    fleet.applyResult("a", okResult(2, "desired", true));
    expect(fleet.nodes.get("a")!.status).toBe("in-sync");
    fleet.close();
  });
});
