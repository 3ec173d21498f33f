// break8: a staged rollout and a node whose post-apply rules went by a digest this dashboard
// did not hold (snapshot-digests): its apply-result must not settle its wave (nor finish the
// rollout) before its rules are known; a drift in them must still pause the rollout.
import type { WavesStrategy } from "@masq/shared";
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import type { FleetState } from "./fleet-state.js";
import { okResult, rulesOf, snap } from "./post-apply.fixture.js";
import { snapshotChars } from "./snapshot-intake.js";
import { stagedFleet, v1, v2 } from "./staged-fleet.fixture.js";

const applied = (revision: number) => okResult(revision);
const UNKNOWN = "rules not known yet: asked for them";

const setup = stagedFleet;

/** The post-apply snapshot by an unknown digest, then the result (as inbound.ts takes them). */
function appliedUnknown(fleet: FleetState, name: string) {
  fleet.rulesUnknown(name, snap(2), UNKNOWN);
  fleet.applyResult(name, applied(2));
}

describe("a staged rollout and post-apply rules not known yet (break8)", () => {
  it("the last wave's node with rules unknown does not finish the rollout; its drift, once known, pauses it", () => {
    // The canary is the whole fleet: settling it finishes the rollout.
    const t = setup({
      kind: "waves",
      canary: { count: 3 },
      waves: [100],
      pause: { kind: "manual" },
    });
    const [first, second, third] = t.order as [string, string, string];
    for (const n of [first, second]) {
      t.fleet.snapshot(n, snap(2, rulesOf(v2.config)));
      t.fleet.applyResult(n, applied(2));
    }
    // The third applied, but a hand edit between the apply and the read made its rules unique:
    // the dashboard does not hold their digest and asks for them.
    appliedUnknown(t.fleet, third);
    expect(t.fleet.nodes.get(third)!.snapshot).toBeNull();
    expect(t.staged.view()).toMatchObject({ phase: "progressing" });
    // The rules come whole: the previous revision's (the edit undid the apply): drifted.
    t.fleet.snapshot(third, snap(2, rulesOf(v1.config)));
    expect(t.fleet.nodes.get(third)!.status).toBe("drifted");
    expect(t.staged.view()).toMatchObject({ phase: "paused" });
    expect(t.staged.view()!.message).toMatch(`${third} drifted from revision 2`);
  });

  it("the wave settles once the rules are known and right", () => {
    const t = setup({
      kind: "waves",
      canary: { count: 3 },
      waves: [100],
      pause: { kind: "manual" },
    });
    for (const n of t.order) appliedUnknown(t.fleet, n);
    expect(t.staged.view()).toMatchObject({ phase: "progressing" });
    for (const n of t.order) t.fleet.snapshot(n, snap(2, rulesOf(v2.config)));
    expect(t.staged.view()).toMatchObject({ phase: "healthy" });
  });
});

describe("a staged rollout and a post-apply snapshot waiting its node's turn (break8)", () => {
  it("the result does not finish the rollout before that snapshot is judged; its drift pauses it", async () => {
    // Every snapshot is large: a node's next one waits 50 ms after its last (paced), on a
    // clock the test moves (real time under load could let the snapshot through at once).
    const size = snapshotChars(snap(1, rulesOf(v1.config)));
    let clock = 0;
    const intake = { smallChars: 0, charsPerSecond: size * 20, clock: () => clock };
    const t = setup(
      { kind: "waves", canary: { count: 3 }, waves: [100], pause: { kind: "manual" } },
      intake,
    );
    const [first, second, third] = t.order as [string, string, string];
    for (const n of [first, second]) {
      t.fleet.snapshot(n, snap(2, rulesOf(v2.config)));
      t.fleet.applyResult(n, applied(2));
    }
    // The third's post-apply rules (the previous revision's: a hand edit undid the apply)
    // wait their turn; its result does not.
    t.fleet.snapshot(third, snap(2, rulesOf(v1.config)));
    t.fleet.applyResult(third, { ...applied(2), changed: false });
    expect(t.staged.view()).toMatchObject({ phase: "progressing" });
    clock = 100; // its turn comes
    await until(() => t.staged.view()?.phase !== "progressing", 2000);
    expect(t.staged.view()).toMatchObject({ phase: "paused" });
    expect(t.staged.view()!.message).toMatch(`${third} drifted from revision 2`);
    t.fleet.close();
  });
});

// issue 17: the fleet bar counted "done" on the apply-result alone while the waves waited for
// the post-apply rules, and still counted "applied" a canary the waves counted failed.
describe("the fleet bar's counts agree with the waves", () => {
  const canary: WavesStrategy = {
    kind: "waves",
    canary: { count: 1 },
    waves: [100],
    pause: { kind: "manual" },
  };
  const cases: {
    desc: string;
    input: { strategy: WavesStrategy | null; steps: (t: ReturnType<typeof setup>) => void };
    want: Record<string, unknown>;
  }[] = [
    {
      desc: "all at once, rules unknown after the apply: applied, awaiting its rules, not done",
      input: {
        strategy: null,
        steps: (t) => {
          for (const n of t.order) appliedUnknown(t.fleet, n);
        },
      },
      want: { total: 3, done: 0, pending: 3, awaitingRules: 3, finishedAt: null },
    },
    {
      desc: "all at once, the rules come whole and right: done, finished",
      input: {
        strategy: null,
        steps: (t) => {
          for (const n of t.order) {
            appliedUnknown(t.fleet, n);
            t.fleet.snapshot(n, snap(2, rulesOf(v2.config)));
          }
        },
      },
      want: { total: 3, done: 3, pending: 0, finishedAt: 1000 },
    },
    {
      // issue 17: a reporter without apply-result-snapshot (the previous release) sends its
      // post-apply snapshot ~2 s after the result; meanwhile the bar and the waves said done.
      desc: "all at once, the result before its post-apply snapshot (no one-frame capability): awaiting its rules, not done",
      input: {
        strategy: null,
        steps: (t) => {
          for (const n of t.order) t.fleet.applyResult(n, applied(2));
        },
      },
      want: { total: 3, done: 0, pending: 3, awaitingRules: 3, finishedAt: null },
    },
    {
      desc: "all at once, the post-apply snapshot comes after the result, right: done, finished",
      input: {
        strategy: null,
        steps: (t) => {
          for (const n of t.order) {
            t.fleet.applyResult(n, applied(2));
            t.fleet.snapshot(n, snap(2, rulesOf(v2.config)));
          }
        },
      },
      want: { total: 3, done: 3, pending: 0, finishedAt: 1000 },
    },
    {
      desc: "the canary's result before its snapshot: its wave waits, the next is not released",
      input: {
        strategy: { ...canary, pause: { kind: "duration", seconds: 0 } },
        steps: (t) => {
          t.fleet.applyResult(t.order[0]!, applied(2));
        },
      },
      want: { total: 3, done: 0, failed: 0, pending: 3, awaitingRules: 1, heldBack: 2 },
    },
    {
      desc: "the canary's result, then a snapshot showing the previous rules (the apply undone): failed",
      input: {
        strategy: canary,
        steps: (t) => {
          t.fleet.applyResult(t.order[0]!, applied(2));
          t.fleet.snapshot(t.order[0]!, snap(2, rulesOf(v1.config)));
        },
      },
      want: { total: 3, done: 0, failed: 1, pending: 2, heldBack: 2 },
    },
    {
      desc: "the canary applied and drifted: failed in the bar as in its wave",
      input: {
        strategy: canary,
        steps: (t) => {
          appliedUnknown(t.fleet, t.order[0]!);
          t.fleet.snapshot(t.order[0]!, snap(2, rulesOf(v1.config)));
        },
      },
      want: { total: 3, done: 0, failed: 1, pending: 2, heldBack: 2 },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const t = setup(c.input.strategy);
      c.input.steps(t);
      const bar = t.fleet.rolloutView();
      expect(bar).toMatchObject(c.want);
      if (!("awaitingRules" in c.want)) expect(bar?.awaitingRules).toBeUndefined();
      const canaryWave = t.staged.view()?.waves[0];
      if (canaryWave) expect(canaryWave).toMatchObject({ applied: bar?.done, failed: bar?.failed });
    });
});

describe("a reporter without the one-frame acknowledgement, its snapshot later than the grace (issue 17)", () => {
  it("stays applying, never drifted by the snapshot held from before the apply; judged when it comes", () => {
    let now = 1000;
    const canary: WavesStrategy = {
      kind: "waves",
      canary: { count: 1 },
      waves: [100],
      pause: { kind: "manual" },
    };
    const t = setup(canary, undefined, () => now);
    const first = t.order[0]!;
    t.fleet.applyResult(first, applied(2));
    // Past the 2 s grace: the previous revision's rules are all it holds (drifted from v2).
    now += 2_500;
    t.fleet.seen(first); // its heartbeat
    t.fleet.sweep();
    expect(t.fleet.nodes.get(first)!.status).toBe("applying");
    expect(t.staged.view()).toMatchObject({ phase: "progressing" });
    t.fleet.snapshot(first, snap(2, rulesOf(v2.config)));
    expect(t.fleet.nodes.get(first)!.status).toBe("in-sync");
    expect(t.staged.view()!.message).toBe("the canary applied; paused until promoted");
    t.fleet.close();
  });
});
