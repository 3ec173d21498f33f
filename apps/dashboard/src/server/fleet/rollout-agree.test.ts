// The fleet bar (rollout.ts) and a staged rollout's waves count one node the same at every
// instant, whatever order its frames come in. Found by an integration flake
// (test/rollout-counts.test.ts): a reporter sets its applied revision, then persists its state
// before sending the apply-result; a read of the node meanwhile (its watcher saw the apply's
// rules) goes out first. The canary's card said applied from that snapshot while the bar,
// counting on the apply-result, still said pending.
import { recordedOutcome, type WavesStrategy } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { heldStatus } from "../replicas/node-masquerade.js";
import { okResult as result, rulesOf, snap } from "./post-apply.fixture.js";
import { stagedFleet, v1, v2 } from "./staged-fleet.fixture.js";

const WAVES: WavesStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [100],
  pause: { kind: "manual" },
};

const setup = () => {
  const t = stagedFleet(WAVES);
  return { ...t, canary: t.order[0]! };
};

type T = ReturnType<typeof setup>;

/** What a reporter (or the dashboard's own clock) does to the canary, one step. */
const steps: Record<string, (t: T) => void> = {
  "snapshot of v2": (t) => t.fleet.snapshot(t.canary, snap(2, rulesOf(v2.config))),
  "apply-result of v2": (t) => t.fleet.applyResult(t.canary, result(2)),
  // One frame: the apply-result carrying the snapshot read after it (gateway/inbound.ts).
  "folded apply of v2": (t) => {
    t.fleet.snapshot(t.canary, snap(2, rulesOf(v2.config)));
    t.fleet.applyResult(t.canary, result(2));
  },
  "rules by an unknown digest": (t) =>
    t.fleet.rulesUnknown(t.canary, snap(2), "rules not known yet: asked for them"),
  "resync asked": (t) => void t.fleet.resync(t.canary, "bob"),
  "resync result": (t) => t.fleet.applyResult(t.canary, result(2, "resync")),
  disconnect: (t) => t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone"),
  "reconnect running v2": (t) => {
    const l = { send() {}, close() {} };
    t.links.set(t.canary, l);
    t.fleet.connect(helloFor(t.canary, { mode: "enforce", appliedRevision: 2 }), l);
  },
  "reconnect in observe mode": (t) => {
    const l = { send() {}, close() {} };
    t.links.set(t.canary, l);
    t.fleet.connect(helloFor(t.canary, { mode: "observe", appliedRevision: 1 }), l);
  },
};

/**
 * The canary card's and the bar's counts of applied and failed nodes, and the canary's row
 * (its place: applied or not), side by side.
 */
function counts(t: T) {
  const card = t.staged.view()!.waves[0]!;
  const bar = t.fleet.rolloutView()!;
  const row = t.staged.placeOf(t.canary)?.progress === "applied" ? 1 : 0;
  return { card: [card.applied, card.failed, card.applied], bar: [bar.done, bar.failed, row] };
}

const orders: { desc: string; input: string[] }[] = [
  {
    desc: "the post-apply snapshot before the apply-result (a read while the reporter persists)",
    input: ["snapshot of v2", "apply-result of v2"],
  },
  {
    desc: "the applied canary's rules by a digest not held, then whole",
    input: ["folded apply of v2", "rules by an unknown digest", "snapshot of v2"],
  },
  {
    desc: "a resync of the applied canary",
    input: ["folded apply of v2", "resync asked", "resync result"],
  },
  {
    desc: "the applied canary reconnects, running v2",
    input: ["folded apply of v2", "disconnect", "reconnect running v2"],
  },
  {
    desc: "the canary reconnects between its apply and its result",
    input: ["snapshot of v2", "disconnect", "reconnect running v2", "apply-result of v2"],
  },
  {
    // It will never apply the revision: the bar drops it; the card called it applied.
    desc: "the canary switches to observe mode before applying",
    input: ["disconnect", "reconnect in observe mode"],
  },
  {
    desc: "the applied canary switches to observe mode",
    input: ["folded apply of v2", "disconnect", "reconnect in observe mode"],
  },
];

describe("the fleet bar and the canary's card agree after every frame", () => {
  it.each(orders)("$desc", ({ input }) => {
    const t = setup();
    for (const step of input) {
      steps[step]!(t);
      const c = counts(t);
      expect(c.card, `after "${step}"`).toEqual(c.bar);
    }
  });
});

describe("a node that joins a wave not released yet", () => {
  it("is a target of the bar too: the bar does not finish while its wave waits for it", () => {
    const t = setup();
    const apply = (n: string, r: 1 | 2) => {
      t.fleet.snapshot(n, snap(r, rulesOf((r === 1 ? v1 : v2).config)));
      t.fleet.applyResult(n, result(r));
    };
    const joiner = "d";
    t.fleet.connect(helloFor(joiner, { mode: "enforce", appliedRevision: 1 }), {
      send() {},
      close() {},
    });
    apply(joiner, 1);
    apply(t.canary, 2);
    expect(t.staged.promote("bob", true).ok).toBe(true);
    for (const n of t.order.slice(1)) apply(n, 2);
    const waves = t.staged.view()!.waves;
    const bar = t.fleet.rolloutView()!;
    expect(bar.total).toBe(waves.reduce((sum, w) => sum + w.total, 0));
    expect(bar.done).toBe(waves.reduce((sum, w) => sum + w.applied, 0));
    expect(bar.finishedAt).toBeNull();
    apply(joiner, 2);
    expect(t.fleet.rolloutView()!.finishedAt).not.toBeNull();
    expect(t.staged.view()!.phase).toBe("healthy");
  });
});

describe("the canary's NodeMasquerade, as the other replicas count it", () => {
  // A read showed revision 2, then the reporter went before its apply-result (it may have cut
  // its own network). This replica waits for it; its written status said offline with revision
  // 2, which the owner elsewhere counts done (recordedOutcome), releasing the next wave on a
  // canary whose apply was never answered (and never suspected: it never saw it applied).
  it("a canary gone between a read showing the revision and its result is not read as done", () => {
    const t = setup();
    steps["snapshot of v2"]!(t);
    steps.disconnect!(t);
    const record = t.fleet.nodes.get(t.canary)!;
    const st = heldStatus(t.fleet, record.name, "dash-a")!;
    expect(t.fleet.rolloutView()!.done).toBe(0);
    expect(recordedOutcome(st, 2)).not.toBe("done");
  });
});

describe("a canary that switches to observe mode before applying", () => {
  it("leaves its wave for good (its drift from the revision, now upstream's, places it nowhere)", () => {
    const t = setup();
    steps.disconnect!(t);
    steps["reconnect in observe mode"]!(t);
    const v = t.staged.view()!;
    expect(v.waves[0]).toMatchObject({ total: 0, applied: 0, pending: 0 });
    expect(v.message).toBe("the canary has no nodes; paused until promoted");
  });
});
