// A reporter back after the dashboard did not hear from it tells the drift it healed meanwhile
// (`unheard-heals`): before, a hand edit and its heal while the dashboard was away reached
// nobody, the node simply in sync at reconnect. Each is told as drift found at reconnect is:
// its timeline, a Drifted Event (the signal), a staged rollout's pause; a connection that was
// not granted the message is refused.
import { defaultConfig, type ReporterMessage, type UnheardHeals } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { ChangeFeed } from "../fleet/change-feed.js";
import { FleetState } from "../fleet/fleet-state.js";
import { okResult, rulesOf, snap } from "../fleet/post-apply.fixture.js";
import type { FleetSignal } from "../fleet/signals.js";
import { stagedFleet, v2 } from "../fleet/staged-fleet.fixture.js";
import { WAVES } from "../fleet/staged-rollout.fixture.js";
import { silentLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { inboundDelivery } from "./inbound.js";
import { SnapshotDigests } from "./snapshot-digests.js";

const AT = Date.UTC(2026, 11, 3, 10, 0, 0);
const heals = (dropped: number, ...revisions: (number | null)[]): UnheardHeals => ({
  type: "unheard-heals",
  v: 2,
  heals: revisions.map((revision, i) => ({
    at: AT + i * 1000,
    revision,
    what: i === 0 ? "missing 10.0.0.0/8" : null,
  })),
  dropped,
});

/** `node-a` (running revision 1) connected with `heals` granted or not; its messages delivered. */
function connection(granted: boolean) {
  const desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
  const signals: FleetSignal[] = [];
  const fleet = new FleetState({
    desired: () => desired,
    feed: new ChangeFeed(250, () => {}),
    log: silentLogger(),
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
    onSignal: (s) => void signals.push(s),
  });
  const refused: string[] = [];
  const link = { send: () => {}, close: () => {} };
  fleet.connect(helloFor("node-a", { appliedRevision: 1 }), link);
  const deliver = inboundDelivery({
    fleet,
    metrics: createMetrics({ defaultMetrics: false }),
    link,
    granted: { digests: new SnapshotDigests().session(true), fold: true, heals: granted },
    reject: (reason) => void refused.push(reason),
    isOpen: () => refused.length === 0,
  });
  const drift = () =>
    fleet.nodes
      .get("node-a")!
      .events.list()
      .filter((e) => e.kind === "drift")
      .map((e) => e.message);
  return { signals, refused, drift, deliver: (m: ReporterMessage) => deliver("node-a", m) };
}

describe("heals a reporter made while the dashboard did not hear from it", () => {
  it("each is a drift entry on the node's timeline and a drift-healed signal (a Drifted Event)", () => {
    const c = connection(true);
    c.deliver(heals(3, 1, null));
    const want = [
      "while the dashboard did not hear from it, its rules drifted from revision 1 (what differed: missing 10.0.0.0/8) and the reporter changed them back at 2026-12-03T10:00:00.000Z by the node's clock; and 3 earlier ones not kept by the reporter",
      "while the dashboard did not hear from it, its rules drifted from the config it ran, a mounted file with no revision, (what differed was not read) and the reporter changed them back at 2026-12-03T10:00:01.000Z by the node's clock",
    ];
    expect(c.refused).toEqual([]);
    expect(c.drift()).toEqual(want);
    expect(c.signals.filter((s) => s.kind === "drift-healed")).toEqual([
      { kind: "drift-healed", node: "node-a", revision: 1, message: want[0] },
      { kind: "drift-healed", node: "node-a", revision: null, message: want[1] },
    ]);
  });

  it("one earlier heal not kept is said in the singular", () => {
    const c = connection(true);
    c.deliver(heals(1, 1));
    expect(c.drift()[0]).toMatch(/; and 1 earlier one not kept by the reporter$/);
  });

  it("on a connection not granted unheard-heals: refused, nothing told", () => {
    const c = connection(false);
    c.deliver(heals(0, 1));
    expect(c.refused).toEqual(["unheard-heals: this connection was not granted unheard-heals"]);
    expect(c.drift()).toEqual([]);
    expect(c.signals.filter((s) => s.kind === "drift-healed")).toEqual([]);
  });
});

describe("a staged rollout and a heal its canary's reporter made unheard", () => {
  /** Revision 2 rolling out, its canary applied it; the canary reconnects and tells `msg`. */
  function run(helloRevision: number, msg: UnheardHeals) {
    const t = stagedFleet(WAVES);
    const canary = t.order[0]!;
    t.fleet.snapshot(canary, snap(2, rulesOf(v2.config)));
    t.fleet.applyResult(canary, okResult(2));
    const hello = helloFor(canary, { mode: "enforce", appliedRevision: helloRevision });
    t.fleet.connect(hello, { send() {}, close() {} });
    t.fleet.unheardHeals(canary, msg);
    return { canary, message: t.staged.view()!.message, failed: t.staged.failedNodes(2) };
  }

  it("pauses it when the heal was of the revision rolling out", () => {
    const r = run(2, heals(0, 2));
    expect(r.message).toMatch(
      new RegExp(
        `^paused: ${r.canary}: while the dashboard did not hear from it, its rules drifted from revision 2 `,
      ),
    );
    expect(r.failed).toEqual([r.canary]);
  });

  it("does not when it was of another revision than the node runs", () => {
    const r = run(2, heals(0, 1));
    expect(r.message).toBe("the canary applied; paused until promoted");
    expect(r.failed).toEqual([]);
  });
});
