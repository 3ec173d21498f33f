// The NodeMasquerade status of a node held here (issue 17): writing it never forces a judgement
// put off at a push, and never carries the previous revision's counts as the new revision's.
import { defaultConfig, RESYNC_CANNOT_HEAL } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { driftedResync } from "../api/node-summary.js";
import { nodeDetail } from "../api/views.js";
import type { Desired } from "../config/merged-desired.js";
import { Assessor } from "../fleet/assess-node.js";
import type { FleetState } from "../fleet/fleet-state.js";
import { toSummary } from "../fleet/node.js";
import {
  okResult,
  rulesOf,
  rulesWithForeign,
  snap,
  testFleet,
} from "../fleet/post-apply.fixture.js";
import { configDigest } from "../fleet/staged-follow.js";
import { type FleetViewSources, remoteOf } from "./fleet-view.js";
import {
  fullStatus,
  heldStatus,
  lastBody,
  type NodeMasquerade,
  nodeMasqueradeSchema,
  statusBody,
} from "./node-masquerade.js";

type Link = { send(): void; close(): void };

/** A replica other than the node's holder ("r1", alive), which holds no node itself. */
function elsewhere(object: NodeMasquerade): FleetViewSources {
  return {
    fleet: {
      nodes: new Map(),
      rollout: { countedAs: () => ({}) },
    } as unknown as FleetState,
    objects: { get: (n) => (n === "n" ? object : undefined), values: () => [object].values() },
    replica: "r2",
    liveness: () => ({ live: true }),
  };
}

const v1: Desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
/** Drops two of v1's CIDRs: rules of v1 differ from it. */
const v2: Desired = {
  revision: 2,
  resourceVersion: "2",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
};
const pre = snap(1, rulesOf(v1.config));
const post = snap(2, rulesOf(v2.config));

type Situation = "pushed" | "judged" | "not-pushed" | "read";

/** Node "n" running v1's rules, v2 saved, then `situation`; counts the assessments made. */
function scene(situation: Situation) {
  let assessments = 0;
  class Counting extends Assessor {
    override assess(...args: Parameters<Assessor["assess"]>) {
      assessments++;
      return super.assess(...args);
    }
  }
  let desired = v1;
  const fleet = testFleet(() => desired, { now: () => 1000, assessor: new Counting() });
  const mode = situation === "not-pushed" ? "observe" : "enforce";
  fleet.connect(helloFor("n", { mode, appliedRevision: 1 }), { send() {}, close() {} });
  fleet.snapshot("n", pre);
  if (mode === "enforce") fleet.applyResult("n", okResult(1, "desired", false));
  desired = v2;
  fleet.desiredChanged(v2);
  if (situation === "judged") {
    fleet.snapshot("n", post);
    fleet.applyResult("n", okResult(2));
  }
  const record = fleet.nodes.get("n")!;
  if (situation === "read") nodeDetail(record, 1000);
  const before = assessments;
  const body = statusBody({ record, replica: "r1" });
  return { body, assessed: assessments - before };
}

/** What v2 says of v1's rules (the pre-apply ones), judged afresh. */
const preVsV2 = new Assessor().assess(v2, helloFor("n").flags, pre).report.differences;

describe("statusBody: the NodeMasquerade status of a node held here", () => {
  it("v1's rules differ from v2 (else the table proves nothing)", () => {
    expect(preVsV2.length).toBeGreaterThan(0);
  });

  const cases: {
    desc: string;
    input: Situation;
    want: { health: string; drift: number | null; critical: number | null };
  }[] = [
    {
      desc: "pushed, judgement put off: counts written null (not known), no judgement forced",
      input: "pushed",
      want: { health: "applying", drift: null, critical: null },
    },
    {
      desc: "pushed and its post-apply rules judged: their counts",
      input: "judged",
      want: { health: "in-sync", drift: 0, critical: 0 },
    },
    {
      desc: "not pushed (observe mode): judged against v2 at the push, its counts",
      input: "not-pushed",
      want: {
        health: "drifted",
        drift: preVsV2.length,
        critical: preVsV2.filter((d) => d.severity === "critical").length,
      },
    },
    {
      desc: "pushed, then its node page read (judged there): the pre-apply rules' counts",
      input: "read",
      want: {
        health: "applying",
        drift: preVsV2.length,
        critical: preVsV2.filter((d) => d.severity === "critical").length,
      },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const { body, assessed } = scene(input);
      expect(assessed).toBe(0);
      expect({
        health: body.health,
        drift: body.drift === null ? null : (body.drift?.count ?? "absent"),
        critical: body.details?.critical,
      }).toEqual(want);
      // Both counts or neither: never one revision's critical beside another's warnings.
      expect(body.details?.warnings === null).toBe(want.critical === null);
    });

  // Issue 17: other replicas number merged revisions their own way and read these numbers by
  // the config (shared inReaderNumbering): the digest is of the revision judged against.
  it.each(["pushed", "judged", "not-pushed", "read"] as const)(
    "%s: desiredConfig is the SHA-256 of desiredRevision's config",
    (situation) => {
      const { body } = scene(situation);
      const config = { 1: v1.config, 2: v2.config }[body.desiredRevision as 1 | 2];
      expect(config).toBeDefined();
      expect(body.desiredConfig).toBe(configDigest(config));
      expect(body.desiredConfig).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it("a put-off status as read back after the merge patch (nulls deleted) stays unknown", () => {
    const { body } = scene("pushed");
    const written = JSON.parse(JSON.stringify(fullStatus(body, undefined, new Date(0))), (_k, v) =>
      v === null ? undefined : v,
    );
    const again = lastBody(written);
    expect(again.drift).toBeUndefined();
    expect(again.details).toMatchObject({ os: "linux", reporterVersion: expect.any(String) });
    expect(again.details?.critical).toBeUndefined();
  });
});

// A push to more than one slice (500 nodes) reaches the rest in later turns: meanwhile a node
// not reached yet still held its rules' judgement against v1. A change of its row then (it
// disconnects, a periodic apply) offered its status with desiredRevision 2 beside v1's
// judgement ("in sync", no drift), which the other replicas read and show as v2's. Until its
// turn it is written not judged (no counts); at its turn, judged against v2. Not judged for the
// write: the change feed brings every node of a push here at once.
describe("heldStatus: a node whose row changes before a sliced push reaches it", () => {
  const preVsV1 = new Assessor().assess(v1, helloFor("n").flags, pre).report;
  const preVsV2Report = new Assessor().assess(v2, helloFor("n").flags, pre).report;
  const cases: {
    desc: string;
    change: (f: FleetState, name: string) => void;
    health: [string, string];
  }[] = [
    {
      desc: "it disconnects: written offline, not judged until its turn, then judged against v2",
      change: (f, name) => f.disconnect(name, links.get(name)!, "gone"),
      health: ["offline", "offline"],
    },
    {
      desc: "a periodic apply: written unknown until its turn, then applying v2 (sent it)",
      change: (f, name) => f.applyResult(name, okResult(1, "periodic")),
      health: ["unknown", "applying"],
    },
  ];
  const links = new Map<string, { send(): void; close(): void }>();
  const written = (body: ReturnType<typeof heldStatus>) => ({
    desiredRevision: body?.desiredRevision,
    health: body?.health,
    drift: body?.drift === null ? null : body?.drift?.count,
    message: body?.message,
    critical: body?.details?.critical,
  });
  for (const c of cases)
    it(c.desc, async () => {
      expect(preVsV1.differences).toEqual([]);
      let desired = v1;
      const fleet = testFleet(() => desired, { now: () => 1000 });
      for (let i = 0; i < 501; i++) {
        const name = `n${String(i).padStart(3, "0")}`;
        const link = { send() {}, close() {} };
        links.set(name, link);
        fleet.connect(helloFor(name, { appliedRevision: 1 }), link);
        fleet.snapshot(name, pre);
        fleet.applyResult(name, okResult(1, "desired", false));
      }
      desired = v2;
      fleet.desiredChanged(v2);
      const later = [...fleet.nodes.values()].find((m) => m.pending === null)!;
      c.change(fleet, later.name);
      expect(written(heldStatus(fleet, later.name, "r1"))).toEqual({
        desiredRevision: 2,
        health: c.health[0],
        drift: null,
        message: "its rules are not judged against revision 2 yet",
        critical: null,
      });
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      const judged = c.health[1] !== "applying";
      expect(written(heldStatus(fleet, later.name, "r1"))).toEqual({
        desiredRevision: 2,
        health: c.health[1],
        drift: judged ? preVsV2Report.differences.length : null,
        message: judged ? preVsV2Report.summary : "applying revision 2",
        critical: judged
          ? preVsV2Report.differences.filter((d) => d.severity === "critical").length
          : null,
      });
      fleet.close();
    });
});

// A node whose rules were never known here (offline before reporting them, or named by a digest
// not held) has no judgement: its status wrote drift 0 and 0 critical, 0 warnings, which the
// other replicas showed as facts.
describe("statusBody: a node whose rules are not known", () => {
  for (const offline of [false, true])
    it(`${offline ? "offline" : "connected"}: drift and counts written null (not known)`, () => {
      const fleet = testFleet(() => v1, { now: () => 1000 });
      const link = { send() {}, close() {} };
      fleet.connect(helloFor("n", { mode: "observe", appliedRevision: 1 }), link);
      fleet.rulesUnknown("n", snap(1), "rules not known yet: asked for them");
      if (offline) fleet.disconnect("n", link, "gone");
      const body = statusBody({ record: fleet.nodes.get("n")!, replica: "r1" });
      expect({
        drift: body.drift,
        critical: body.details?.critical,
        warnings: body.details?.warnings,
      }).toEqual({ drift: null, critical: null, warnings: null });
      fleet.close();
    });

  // Other replicas read a status without desiredConfig as the previous release's (its numbers
  // taken as theirs): a null key is deleted by the merge patch, so none is written "".
  it('judged against no revision (none valid): desiredConfig written "", never null', () => {
    const fleet = testFleet(() => null, { now: () => 1000 });
    fleet.connect(helloFor("n", { appliedRevision: 13 }), { send() {}, close() {} });
    const body = statusBody({ record: fleet.nodes.get("n")!, replica: "r1" });
    expect(body).toMatchObject({ desiredRevision: null, desiredConfig: "", appliedRevision: 13 });
    fleet.close();
  });
});

// Why a node's severity is not known has one cause per case on its holder's rows (node.ts
// severityUnknown); another replica showed every one as "not judged against its desired revision
// yet". The status carries the holder's reason; a status without it (the previous release's, or a
// CRD of the previous release, which prunes the field) keeps the generic one.
describe("the reason a node's severity is not known, as the other replicas show it", () => {
  const cases: {
    desc: string;
    situation: (f: FleetState, link: Link, toV2: () => void) => void;
  }[] = [
    {
      desc: "offline before reporting its rules",
      situation: (f, link) => f.disconnect("n", link, "gone"),
    },
    {
      desc: "rules named by a digest not held",
      situation: (f) => f.rulesUnknown("n", snap(1), "rules not known yet: asked for them"),
    },
    {
      desc: "applying its desired revision",
      situation: (f, _link, toV2) => {
        f.snapshot("n", pre);
        f.applyResult("n", okResult(1, "desired", false));
        toV2();
        f.desiredChanged(v2);
      },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      let desired = v1;
      const fleet = testFleet(() => desired, { now: () => 1000 });
      const link = { send() {}, close() {} };
      fleet.connect(helloFor("n", { appliedRevision: 1 }), link);
      c.situation(fleet, link, () => {
        desired = v2;
      });
      const record = fleet.nodes.get("n")!;
      const here = toSummary(record).notKnownHere;
      expect(here?.fields).toEqual(["severity"]);
      const written = fullStatus(statusBody({ record, replica: "r1" }), undefined, new Date(0));
      // As the API server hands it back: a merge patch's nulls deleted.
      const read = JSON.parse(JSON.stringify(written), (_k, v) => (v === null ? undefined : v));
      const object = nodeMasqueradeSchema.parse({ metadata: { name: "n" }, status: read });
      const there = remoteOf(elsewhere(object), "n")!.notKnownHere;
      expect(there).toEqual(here);
      fleet.close();
    });
});

// A new user: "Resync all drifted" counted and resynced a node whose only drift was another
// component's NAT on the path, which a resync (the agent's chain and jump) never changes.
describe("a node drifted only by other components' rules: a resync would not change it", () => {
  /** "own": v1's rules against v2 (the agent's chain differs); "other": v1's rules with
   * another component's MASQUERADE after the jump. Both drifted against v1's config. */
  function scene() {
    const fleet = testFleet(() => v1, { now: () => 1000 });
    const rules = { own: rulesOf(v2.config), other: rulesWithForeign(v1.config) };
    for (const [name, linux] of Object.entries(rules)) {
      fleet.connect(helloFor(name, { appliedRevision: 1 }), { send() {}, close() {} });
      fleet.snapshot(name, snap(1, linux));
      fleet.applyResult(name, okResult(1, "desired", false));
    }
    return fleet;
  }

  it("its row says why, and 'Resync all drifted' counts it apart from the node it heals", () => {
    const fleet = scene();
    const own = fleet.nodes.get("own")!;
    const other = fleet.nodes.get("other")!;
    expect([own.status, other.status]).toEqual(["drifted", "drifted"]);
    expect(toSummary(own).resyncCannotHeal).toBeUndefined();
    expect(toSummary(other).resyncCannotHeal).toBe(RESYNC_CANNOT_HEAL.other);
    expect(driftedResync(fleet.nodes.values(), false)).toEqual({
      resyncable: 1,
      skipped: [],
      cannotHeal: [{ reason: RESYNC_CANNOT_HEAL.other, count: 1 }],
    });
    fleet.close();
  });

  it("its NodeMasquerade carries why, and another replica's row reads it", () => {
    const fleet = scene();
    for (const [name, want] of [
      ["own", undefined],
      ["other", RESYNC_CANNOT_HEAL.other],
    ] as const) {
      const record = fleet.nodes.get(name)!;
      const written = fullStatus(statusBody({ record, replica: "r1" }), undefined, new Date(0));
      const read = JSON.parse(JSON.stringify(written), (_k, v) => (v === null ? undefined : v));
      const object = nodeMasqueradeSchema.parse({ metadata: { name: "n" }, status: read });
      const there = remoteOf(elsewhere(object), "n")!;
      expect(there.resyncCannotHeal).toBe(want);
      expect(driftedResync([there], false)).toEqual({
        resyncable: want ? 0 : 1,
        skipped: [],
        cannotHeal: want ? [{ reason: want, count: 1 }] : [],
      });
    }
    fleet.close();
  });
});
