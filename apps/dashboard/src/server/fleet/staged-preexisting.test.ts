// A problem a node had before the revision reached it is not the revision's doing (a new user's
// find: a node drifted by another component's rule paused a canary as "drifted from revision
// 2"). The rollout judges what the change did: the same drift against the previous revision
// does not pause it, the node stays drifted, and its place in the rollout says it had it before.
import { describe, expect, it } from "vitest";
import { okResult, rulesWithForeign, snap } from "./post-apply.fixture.js";
import { stagedFleet, v1, v2 } from "./staged-fleet.fixture.js";
import { WAVES } from "./staged-rollout.fixture.js";

const CANARY_DONE = "the canary applied; paused until promoted";

/** Three nodes, each with another component's MASQUERADE before the save of revision 2. */
function driftedBefore() {
  const t = stagedFleet(
    WAVES,
    undefined,
    () => 1000,
    () => rulesWithForeign(v1.config),
  );
  const canary = t.order[0]!;
  // The nodes the rollout has not reached are judged against revision 1: drifted.
  expect(t.fleet.nodes.get(t.order[1]!)!.status).toBe("drifted");
  return { ...t, canary };
}

describe("a staged rollout and drift the node had before", () => {
  it("the same drift against the previous revision does not pause it; the node stays drifted, said so", () => {
    const t = driftedBefore();
    t.fleet.snapshot(t.canary, snap(2, rulesWithForeign(v2.config)));
    t.fleet.applyResult(t.canary, okResult(2));
    expect(t.fleet.nodes.get(t.canary)!.status).toBe("drifted");
    const view = t.staged.view()!;
    expect(view.message).toBe(CANARY_DONE);
    expect(view.pause?.kind).toBe("manual");
    const place = t.staged.placeOf(t.canary)!;
    expect(place.progress).toBe("applied");
    expect(place.driftedBefore).toMatch(
      /^drifted before revision 2 reached it \(the same drift against revision 1\): /,
    );
  });

  it("drift the change added pauses it as before", () => {
    const t = driftedBefore();
    // Revision 2's chain missing: drift the previous revision did not have.
    t.fleet.snapshot(t.canary, snap(2, rulesWithForeign(v1.config)));
    t.fleet.applyResult(t.canary, okResult(2));
    expect(t.staged.view()!.message).toMatch(`paused: ${t.canary} drifted from revision 2`);
  });

  it("a node in sync before that drifts after the apply pauses it", () => {
    const t = stagedFleet(WAVES);
    const canary = t.order[0]!;
    t.fleet.snapshot(canary, snap(2, rulesWithForeign(v2.config)));
    t.fleet.applyResult(canary, okResult(2));
    expect(t.staged.view()!.message).toMatch(`paused: ${canary} drifted from revision 2`);
  });
});
