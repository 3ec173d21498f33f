// What every reader says of a node right after a push and after its result (issue 17: the
// re-judge after a push may be put off while the node applies): never the previous revision's
// judgement as the answer for the new one; counts against the pre-apply rules are computed or
// said unknown; nodes not pushed to are judged against the new revision at once.
import { compareNodeOrder, defaultConfig, type NodeSummary, type Snapshot } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { nodeDetail } from "../api/views.js";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import { heldStatus } from "../replicas/node-masquerade.js";
import { Assessor } from "./assess-node.js";
import type { FleetOptions, FleetState, ReporterLink } from "./fleet-state.js";
import { countBySeverity, toSummary } from "./node.js";
import { rulesOf, snap, testFleet } from "./post-apply.fixture.js";
import type { FleetSignal } from "./signals.js";
import { StagedRollouts } from "./staged-rollout.js";

const v1: Desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
/** Drops two of v1's CIDRs: a node still running v1's rules differs from it. */
const v2: Desired = {
  revision: 2,
  resourceVersion: "2",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
};
const APPLY_TIMEOUT_MS = 5000;

const link = (): ReporterLink => ({ send() {}, close() {} });

const result = (revision: number, changed: boolean) => ({
  type: "apply-result" as const,
  v: 2 as const,
  revision,
  ok: true,
  durationMs: 3,
  trigger: "desired" as const,
  changed,
});

/** The truth about rules `s` against `d`, judged afresh by the real assessor. */
function truth(d: Desired, s: Snapshot) {
  const a = new Assessor().assess(d, helloFor("x").flags, s);
  return {
    status: a.report.status,
    summary: a.report.summary,
    differences: a.report.differences.length,
    ...countBySeverity(a.report.differences),
  };
}
const pre = snap(1, rulesOf(v1.config));
const post = snap(2, rulesOf(v2.config));
const preVsV2 = truth(v2, pre);
const postVsV2 = truth(v2, post);
const preVsV1 = truth(v1, pre);

type Situation =
  | "pushed"
  | "observe"
  | "offline"
  | "wave-held-back"
  | "timed-out"
  | "unchanged-apply"
  | "silent"
  | "gone-while-applying";

/** A fleet judging against `desired()`, with the tests' heartbeat and apply timeout. */
function fleetOf(
  desired: () => Desired,
  more: Pick<FleetOptions, "now" | "onSignal" | "assessor">,
): FleetState {
  return testFleet(desired, { applyTimeoutMs: APPLY_TIMEOUT_MS, ...more });
}

/** Node "n" running v1's rules, then v2 saved (staged: "a" is the canary, "n" waits). */
function scene(situation: Situation, assessor?: Assessor) {
  let now = 1000;
  let desired = v1;
  const signals: FleetSignal[] = [];
  const fleet = fleetOf(() => desired, {
    now: () => now,
    onSignal: (s) => void signals.push(s),
    ...(assessor ? { assessor } : {}),
  });
  const staged =
    situation === "wave-held-back"
      ? new StagedRollouts({
          log: silentLogger(),
          now: () => now,
          persistence: { loadRollout: async () => null, saveRollout: async () => {} },
          restartUpstream: () => {},
          refusal: () => null,
          active: () => true,
        })
      : undefined;
  if (staged) fleet.attachStaging(staged);
  const names = staged ? ["a", "n"].sort(compareNodeOrder) : ["n"];
  const links = new Map(names.map((name) => [name, link()]));
  for (const name of names) {
    const mode = situation === "observe" ? "observe" : "enforce";
    fleet.connect(helloFor(name, { mode, appliedRevision: 1 }), links.get(name)!);
    fleet.snapshot(name, pre);
    if (mode === "enforce") fleet.applyResult(name, result(1, false));
  }
  if (staged && names[0] !== "a") throw new Error("the canary must be a, not n");
  if (situation === "offline") fleet.disconnect("n", links.get("n")!, "gone");
  desired = v2;
  if (staged)
    staged.begin(v2, v1, "text", "alice", {
      kind: "waves",
      canary: { count: 1 },
      waves: [100],
      pause: { kind: "manual" },
    });
  fleet.desiredChanged(v2);
  signals.length = 0;
  const n = fleet.nodes.get("n")!;
  return {
    fleet,
    n,
    signals,
    link: links.get("n")!,
    staged,
    advance: (ms: number) => (now += ms),
    now: () => now,
  };
}

/** What each reader tells of node n now. */
function readers(t: ReturnType<typeof scene>) {
  const row = toSummary(t.n);
  const detail = nodeDetail(t.n, t.now());
  const crd = heldStatus(t.fleet, t.n.name, "r1")!;
  return { row, detail, crd };
}

/** A row's severity: its counts, or `unknown` when it says it does not know them. */
function severity(row: NodeSummary) {
  return row.notKnownHere?.fields.includes("severity")
    ? "unknown"
    : { critical: row.critical, warnings: row.warnings };
}

const judged = (t: { critical: number; warnings: number }) => ({
  critical: t.critical,
  warnings: t.warnings,
});

describe("what every reader says of a node after a push", () => {
  it("the pre-apply rules differ from v2 (else this table proves nothing)", () => {
    expect(preVsV2.differences).toBeGreaterThan(0);
    expect(preVsV1.differences).toBe(0);
    expect(postVsV2.differences).toBe(0);
  });

  const cases: {
    desc: string;
    situation: Situation;
    /** What happens after the push, before reading. */
    after?: (t: ReturnType<typeof scene>) => void;
    want: { status: string; summary: string | RegExp; against: typeof preVsV2 | "pending" };
  }[] = [
    {
      desc: "pushed, applying: the rows' counts are computed against v2 or said unknown",
      situation: "pushed",
      want: { status: "applying", summary: "applying revision 2", against: "pending" },
    },
    {
      desc: "observe mode: never pushed, drifted from v2 at once",
      situation: "observe",
      want: { status: "drifted", summary: preVsV2.summary, against: preVsV2 },
    },
    {
      desc: "offline: last known rules judged against v2 at once",
      situation: "offline",
      want: { status: "offline", summary: preVsV2.summary, against: preVsV2 },
    },
    {
      desc: "held back by its wave: still judged against v1, its desired revision",
      situation: "wave-held-back",
      want: { status: "in-sync", summary: preVsV1.summary, against: preVsV1 },
    },
    {
      desc: "push timed out with no result: an apply failure, its held rules judged against v2",
      situation: "timed-out",
      after: (t) => {
        t.advance(APPLY_TIMEOUT_MS);
        t.fleet.seen("n");
        t.fleet.sweep();
      },
      want: { status: "error", summary: /no apply-result within 5 s/, against: preVsV2 },
    },
    {
      desc: "applied without changing its rules (no new snapshot): its held rules judged against v2",
      situation: "unchanged-apply",
      after: (t) => t.fleet.applyResult("n", result(2, false)),
      want: { status: "drifted", summary: preVsV2.summary, against: preVsV2 },
    },
    {
      desc: "went silent while applying: unknown, last known judged against v2",
      situation: "silent",
      after: (t) => {
        t.advance(2100);
        t.fleet.sweep();
      },
      want: {
        status: "unknown",
        summary: `not responding (last known: ${preVsV2.summary})`,
        against: preVsV2,
      },
    },
    {
      desc: "disconnected while applying: offline, last known judged against v2",
      situation: "gone-while-applying",
      after: (t) => t.fleet.disconnect("n", t.link, "gone"),
      want: { status: "offline", summary: preVsV2.summary, against: preVsV2 },
    },
  ];

  for (const c of cases)
    it(c.desc, () => {
      const t = scene(c.situation);
      c.after?.(t);
      expect({ status: t.n.status, summary: t.n.summary }).toMatchObject({
        status: c.want.status,
        summary: c.want.summary,
      });
      const { row, detail, crd } = readers(t);
      expect(row.status).toBe(c.want.status);
      const against = c.want.against;
      if (against === "pending") {
        // Computed against v2, or said unknown: never v1's judgement (no differences).
        const sev = severity(row);
        if (sev !== "unknown") expect(sev).toEqual(judged(preVsV2));
      } else expect(severity(row)).toEqual(judged(against));
      // The node page and the NodeMasquerade judge on read: the pre-apply rules against v2.
      const want = against === "pending" ? preVsV2 : against;
      expect(detail.view?.report.differences.length).toBe(want.differences);
      expect(crd.drift?.count).toBe(want.differences);
      expect(crd.details).toMatchObject(judged(want));
      // Events and metrics hear only the status the node has.
      const to = t.signals.flatMap((s) => (s.kind === "status" && s.node === "n" ? [s.to] : []));
      expect(to.at(-1) ?? t.n.status).toBe(c.want.status);
    });

  it("pushed, then its post-apply rules come with the result: every reader says in sync", () => {
    const t = scene("pushed");
    t.fleet.snapshot("n", post);
    t.fleet.applyResult("n", result(2, true));
    const { row, detail, crd } = readers(t);
    expect({ status: row.status, summary: row.summary }).toEqual({
      status: "in-sync",
      summary: postVsV2.summary,
    });
    expect(severity(row)).toEqual({ critical: 0, warnings: 0 });
    expect(detail.view?.report.differences).toEqual([]);
    expect(crd.drift?.count).toBe(0);
    expect(t.fleet.rolloutView()).toMatchObject({ done: 1, pending: 0 });
  });

  it("pushed, the result first and its rules later: unknown or computed, then in sync", () => {
    const t = scene("pushed");
    t.fleet.applyResult("n", result(2, true));
    expect(t.n.status).toBe("applying");
    const sev = severity(toSummary(t.n));
    if (sev !== "unknown") expect(sev).toEqual(judged(preVsV2));
    expect(t.fleet.rolloutView()).toMatchObject({ done: 0, awaitingRules: 1 });
    t.fleet.snapshot("n", post);
    expect(t.n.status).toBe("in-sync");
    expect(severity(toSummary(t.n))).toEqual({ critical: 0, warnings: 0 });
    expect(t.fleet.rolloutView()).toMatchObject({ done: 1 });
  });

  // Issue 17: the re-judge after a push cost a full assessment per node (its pre-apply rules
  // against the new revision), for a node shown `applying` whatever they said.
  it("a pushed node's pre-apply rules are judged only when read: one assessment per push", () => {
    const judgedRules: string[] = [];
    class Counting extends Assessor {
      override assess(...args: Parameters<Assessor["assess"]>) {
        judgedRules.push(`v${args[0].revision}: rules of v${args[2].appliedRevision}`);
        return super.assess(...args);
      }
    }
    const t = scene("pushed", new Counting());
    judgedRules.length = 0;
    expect(t.n.status).toBe("applying");
    expect(severity(toSummary(t.n))).toBe("unknown");
    expect(toSummary(t.n).notKnownHere?.reason).toMatch(/applying its desired revision/);
    expect(judgedRules).toEqual([]);
    t.fleet.snapshot("n", post);
    t.fleet.applyResult("n", result(2, true));
    expect(judgedRules).toEqual(["v2: rules of v2"]);
    expect(severity(toSummary(t.n))).toEqual({ critical: 0, warnings: 0 });
  });

  it("put off, then read by the node page: judged there, and the row says the counts again", () => {
    const t = scene("pushed");
    expect(severity(toSummary(t.n))).toBe("unknown");
    expect(nodeDetail(t.n, t.now()).node).toMatchObject(judged(preVsV2));
    expect(severity(toSummary(t.n))).toEqual(judged(preVsV2));
  });
});

// A wave released (or taken back by an abort) while one of its nodes is offline: the push
// reaches only connected nodes, but the offline one's desired revision changed too. Its last
// known rules were still judged against the revision it no longer has (v1: "in sync"), on the
// row, the node page and its NodeMasquerade, where a full push judges them against v2 at once.
describe("an offline node whose wave moves is judged against its new desired revision", () => {
  const promote = (staged: StagedRollouts) =>
    expect(staged.promote("bob", false)).toMatchObject({ ok: true });
  const cases: {
    desc: string;
    /** Moves the rollout with n connected (its rules then), before n goes offline. */
    before?: (t: ReturnType<typeof scene>, staged: StagedRollouts) => void;
    move: (staged: StagedRollouts) => void;
    want: { revision: number; summary: string; against: typeof preVsV2 };
  }[] = [
    {
      desc: "its wave released while it is offline: its v1 rules judged against v2",
      move: promote,
      want: { revision: 2, summary: preVsV1.summary, against: preVsV2 },
    },
    {
      desc: "aborted while it is offline, gone before applying v2: its v1 rules judged against v1",
      before: (_t, staged) => promote(staged),
      move: (staged) => expect(staged.abort("bob")).toEqual({ ok: true, view: expect.anything() }),
      want: { revision: 1, summary: preVsV2.summary, against: preVsV1 },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const t = scene("wave-held-back");
      const staged = t.staged!;
      t.fleet.snapshot("a", post);
      t.fleet.applyResult("a", result(2, true));
      c.before?.(t, staged);
      t.fleet.disconnect("n", t.link, "gone");
      expect(t.n.summary).toBe(c.want.summary);
      c.move(staged);
      expect(t.fleet.desiredOf("n")?.revision).toBe(c.want.revision);
      expect({ status: t.n.status, summary: t.n.summary }).toEqual({
        status: "offline",
        summary: c.want.against.summary,
      });
      const { row, detail, crd } = readers(t);
      expect(severity(row)).toEqual(judged(c.want.against));
      expect(detail.view?.report.differences.length).toBe(c.want.against.differences);
      expect(crd.details).toMatchObject(judged(c.want.against));
    });
});

// A push to more nodes than one slice (500) sends the rest in later turns and re-judges after
// the last: meanwhile a node already sent v2 is `applying` while its row and node page gave
// its rules' judgement against v1 (no differences) as the answer for v2.
describe("a node sent the revision while the push goes on in slices", () => {
  it("its row says its severity is not known, its page judges it against v2", () => {
    let desired = v1;
    const fleet = fleetOf(() => desired, { now: () => 1000 });
    const names = Array.from({ length: 501 }, (_, i) => `n${String(i).padStart(3, "0")}`);
    for (const name of names) {
      fleet.connect(helloFor(name, { appliedRevision: 1 }), link());
      fleet.snapshot(name, pre);
      fleet.applyResult(name, result(1, false));
    }
    desired = v2;
    fleet.desiredChanged(v2);
    const sent = [...fleet.nodes.values()].filter((n) => n.pending?.revision === 2);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(names.length); // the rest go in the next turn
    const n = sent[0]!;
    expect(n.status).toBe("applying");
    expect(severity(toSummary(n))).toBe("unknown");
    expect(nodeDetail(n, 1000).view?.report.differences.length).toBe(preVsV2.differences);
    // One not sent it yet: its page said "in sync", its rules judged against v1, not v2.
    const later = [...fleet.nodes.values()].find((m) => m.pending === null)!;
    fleet.assessmentNow(later);
    expect(nodeDetail(later, 1000).view?.report.differences.length).toBe(preVsV2.differences);
    expect(later.status).toBe("drifted");
    fleet.close();
  });
});
