// A push to more than one slice (500 nodes) reaches the rest in later event-loop turns, and the
// re-judge of the nodes not pushed to (observe mode, offline) comes after its last slice.
// Meanwhile every reader of a node not reached yet (its row, the fleet counts, the metrics'
// counts, the change feed browsers follow, a status filter) gave its judgement against the
// revision before ("in sync" with v1 while v2 is desired). They must say the node is not judged
// against v2 yet, or judge it; the node page judges it on the read.
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it, vi } from "vitest";
import { listNodes } from "../api/node-list.js";
import { nodeDetail } from "../api/views.js";
import { Assessor } from "./assess-node.js";
import { ChangeFeed } from "./change-feed.js";
import type { FleetState } from "./fleet-state.js";
import { toSummary } from "./node.js";
import { okResult, rulesOf, snap, testFleet } from "./post-apply.fixture.js";
import { v1, v2 } from "./staged-fleet.fixture.js";

const pre = snap(1, rulesOf(v1.config));
const preVsV2 = new Assessor().assess(v2, helloFor("x").flags, pre).report;

/** 501 enforce-mode nodes and one observe-mode node ("obs"), all in sync with v1; v2 saved. */
function pushed() {
  let desired = v1;
  const feed = new ChangeFeed(250, () => {});
  const fleet = testFleet(() => desired, { now: () => 1000, feed });
  const link = () => ({ send() {}, close() {} });
  for (let i = 0; i < 501; i++) {
    const name = `n${String(i).padStart(3, "0")}`;
    fleet.connect(helloFor(name, { appliedRevision: 1 }), link());
    fleet.snapshot(name, pre);
    fleet.applyResult(name, okResult(1, "desired", false));
  }
  fleet.connect(helloFor("obs", { mode: "observe", appliedRevision: 1 }), link());
  fleet.snapshot("obs", pre);
  expect(fleet.countByStatus()["in-sync"]).toBe(502);
  const before = statusEvents(fleet, "obs").length;
  const told = vi.spyOn(feed, "node");
  desired = v2;
  fleet.desiredChanged(v2);
  const later = [...fleet.nodes.values()].find((m) => m.hello.mode === "enforce" && !m.pending)!;
  return { fleet, feed, told, later: later.name, before };
}

/** The node's status changes its timeline tells, oldest first. */
function statusEvents(fleet: FleetState, name: string): string[] {
  return fleet.nodes
    .get(name)!
    .events.newestFirst()
    .filter((e) => e.kind === "status")
    .map((e) => e.message)
    .reverse();
}

/** Runs the push's later slices and the re-judge after them. */
async function settle(fleet: FleetState): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  expect(
    [...fleet.nodes.values()].filter((n) => n.pending === null && n.hello.mode === "enforce"),
  ).toEqual([]);
}

const notJudged = {
  status: "unknown",
  summary: "its rules are not judged against revision 2 yet",
  critical: 0,
  warnings: 0,
  notKnownHere: {
    fields: ["severity"],
    reason: "its rules have not been judged against its desired revision yet",
  },
};

describe("readers of a node a sliced push has not reached yet", () => {
  for (const who of ["an enforce-mode node not sent v2 yet", "an observe-mode node"])
    it(`${who}: its row says it is not judged against v2, never v1's "in sync"`, () => {
      const t = pushed();
      const name = who.startsWith("an observe") ? "obs" : t.later;
      const row = toSummary(t.fleet.nodes.get(name)!);
      expect({
        status: row.status,
        summary: row.summary,
        critical: row.critical,
        warnings: row.warnings,
        notKnownHere: row.notKnownHere,
      }).toEqual(notJudged);
      // Browsers hear of it now, not when the re-judge reaches it.
      expect(t.told).toHaveBeenCalledWith(name);
      t.fleet.close();
    });

  it("the fleet counts (and metrics, and a status filter) count none in sync with v1", () => {
    const t = pushed();
    const counts = t.fleet.countByStatus();
    expect(counts["in-sync"]).toBe(0);
    expect(counts.applying + counts.unknown).toBe(502);
    const inSync = listNodes(t.fleet.nodes.values(), {
      status: "in-sync",
      q: "",
      limit: undefined,
      after: undefined,
    });
    expect(inSync.nodes).toEqual([]);
    t.fleet.close();
  });

  it("its node page judges it against v2 on the read, and its row says the same", () => {
    const t = pushed();
    const n = t.fleet.nodes.get("obs")!;
    t.fleet.assessmentNow(n);
    const detail = nodeDetail(n, 1000);
    expect([detail.node.status, detail.node.summary]).toEqual(["drifted", preVsV2.summary]);
    expect(toSummary(n).status).toBe("drifted");
    t.fleet.close();
  });

  it("once reached: judged against v2, its timeline telling in sync → drifted only", async () => {
    const t = pushed();
    await settle(t.fleet);
    const n = t.fleet.nodes.get("obs")!;
    const row = toSummary(n);
    expect([row.status, row.summary, row.notKnownHere]).toEqual([
      "drifted",
      preVsV2.summary,
      undefined,
    ]);
    const since = statusEvents(t.fleet, "obs").slice(t.before);
    expect(since).toHaveLength(1);
    expect(since[0]).toMatch(/^in-sync → drifted/);
    expect(since[0]).not.toMatch(/unknown/i);
    t.fleet.close();
  });
});
