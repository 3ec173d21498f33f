// One node as the dashboard knows it, and how its status is derived. Pure: the fleet state
// mutates records and calls `deriveStatus` after every change.
import type {
  ApplyResult,
  Difference,
  DriftReport,
  Family,
  FamilyAssessment,
  Freshness,
  HealSchedule,
  Hello,
  LinuxNodeView,
  Liveness,
  NftAssessment,
  NftFamilyAnalysis,
  NodeStatus,
  NodeSummary,
  ResyncSchedule,
  Snapshot,
} from "@masq/shared";
import { restoredSummary, resyncCannotHeal } from "@masq/shared";
import type { Desired } from "../config/merged-desired.js";
import { EventLog } from "./event-log.js";
import { applyingSummary } from "./event-texts.js";

/** A desired/resync sent to the node and not yet acknowledged. */
export interface Pending {
  kind: "desired" | "resync";
  revision: number | null;
  requestId?: string;
  sentAt: number;
}

export interface DesiredFamily {
  family: Family;
  lines: readonly string[];
}

/** The node judged against the desired config (shared with identical nodes via a cache). */
/** A family's assessment without its path analysis (`observed`). */
export type JudgedFamily = Omit<FamilyAssessment, "observed">;

export interface NodeAssessment {
  report: DriftReport;
  desired: DesiredFamily[];
  /**
   * Each family as judged, without the node's path analysis: it is the largest part of an
   * assessment (tens of KB on a node whose rules are its own) and only evaluate(ip) and the
   * node page read it,
   * so it is rebuilt from the snapshot judged when asked (`analyzed`).
   */
  families: JudgedFamily[];
  /**
   * Linux: the families with their path analysis, computed again from the same config, flags
   * and snapshot (assessLinux is a pure function of them): evaluate(ip) and the node page.
   */
  analyzed?: () => FamilyAssessment[];
  /** Windows: the ExceptionList the config wants. */
  windowsDesired?: string[];
  /**
   * A native nftables node: its assessment (for evaluate), its node page, made once, and the
   * desired agent table of a family as the nftables analysis reads it (the tester's desired side).
   */
  nft?: {
    assessment: NftAssessment;
    view: LinuxNodeView;
    desired: (family: Family) => NftFamilyAnalysis;
  };
  /** Set when the node cannot be judged (e.g. its flags do not render): `error` makes the status error. */
  unknown?: { reason: string; error: boolean };
}

export interface NodeRecord {
  name: string;
  hello: Hello;
  connected: boolean;
  /** When the last frame of any kind arrived (dashboard clock). */
  lastSeenAt: number | null;
  /** Connected, but no frame for SILENT_AFTER_HEARTBEATS heartbeats: maybe hung. */
  silent: boolean;
  snapshot: Snapshot | null;
  appliedRevision: number | null;
  pending: Pending | null;
  /**
   * After an apply that changed the rules, the snapshot we hold predates it: until the next
   * snapshot (or this time) the node shows `applying` instead of a stale drift. Monotonic ms
   * (the fleet's clock of durations), never shown.
   */
  verifyUntil: number | null;
  /** When the last snapshot arrived (dashboard clock). */
  snapshotReceivedAt: number | null;
  /**
   * Set (to what the node shows) while the node's latest snapshot named rules by a digest this
   * dashboard does not hold; `snapshot` is then null, never the previous rules.
   */
  rulesUnknown?: string;
  /** A newer snapshot of the node waits its turn to be judged (snapshot-intake.ts). */
  rulesWaiting?: boolean;
  /**
   * Its last apply changed the rules after the snapshot held was read, and the one read after
   * it has not come yet (a reporter without apply-result-snapshot sends it apart, ~2 s later).
   */
  rulesAfterApply?: boolean;
  /**
   * The revision whose rules the node holds by its own word on this connection: said at hello
   * (`atHello`), or written by its last successful apply here. Undefined when not known (none
   * said, a failed apply). An apply of it that changes the rules changed back a drift
   * (fleet-state.ts healedDrift); a first apply of another revision is no drift.
   */
  ran?: { revision: number; atHello: boolean };
  /**
   * The last drift judged on this connection from the node's rules (`told`: its status was
   * shown drifted, so the timeline and a staged rollout heard of it live). A changed apply of
   * the revision it ran names these differences when the drift was not told.
   */
  driftSeen?: { revision: number; report: DriftReport; told: boolean };
  /** The last revision a snapshot named that the node could not run (said once on its timeline). */
  ignoredRevision?: number | null;
  lastApply: ApplyResult | null;
  /** The reporter's resync schedule, `nextResyncAt` moved to the dashboard's clock. */
  schedule: ResyncSchedule | null;
  assessment: NodeAssessment | null;
  /**
   * The judgement against a new desired revision, put off at a push (fleet-state.ts): a node
   * applying it is shown `applying` whatever its pre-apply rules say, and its post-apply rules
   * are judged when they come. `assessment` is then null, never the previous revision's;
   * `assessmentOf` judges on first read (status, node page, NodeMasquerade); rows say unknown.
   */
  deferred?: () => NodeAssessment | null;
  /** The desired revision `assessment` (or `deferred`) judges against (null: none valid). */
  judgedAgainst?: Desired | null;
  /**
   * Set (to that revision) while a push or the re-judge after it (both go in slices) has not
   * reached the node with its new desired revision: its judgement is put off (`deferred`) and
   * its status says it is not judged yet, never the revision before's "in sync" (fleet-state.ts
   * markBehind). Cleared when reached, or by a reader that judges it then.
   */
  behind?: number;
  /**
   * The status last told (timeline, signals) while `status` shows the not-judged-yet placeholder
   * of `behind`: reached, a node changes from this status, never from the placeholder.
   */
  toldStatus?: NodeStatus;
  /** The summary told with `toldStatus` (a drift entry names differences changed from it). */
  toldSummary?: string;
  /**
   * Set by newRecord: no status of this node has been told yet. Its placeholder status
   * (`offline`) is no state it was in, so its first status entry is to read as a first report
   * (statusChangeText with `from` null), not "offline → applying".
   */
  firstReport?: true;
  /**
   * Set for a node known only from the roster kept before this dashboard started (node-roster.ts),
   * until its reporter says hello: when the dashboard started, and its status before the restart.
   */
  restored?: Restored;
  status: NodeStatus;
  summary: string;
  /** The last 50 events (event-log.ts). */
  events: EventLog;
}

/** A restored node's start (Freshness.notHeardSinceStart) and status before the restart. */
export interface Restored {
  startedAt: number;
  status: NodeStatus;
  summary: string;
}

/** `notJudged`: the placeholder of a node not reached yet (`behind`), not a status of its own. */
type Derived = { status: NodeStatus; summary: string; notJudged?: true };

/** What a node not reached yet by its new desired revision shows (see `behind`). */
export function notJudgedSummary(revision: number): string {
  return `its rules are not judged against revision ${revision} yet`;
}

/** The node's assessment against its desired revision, judged now if it was put off. */
export function assessmentOf(n: NodeRecord): NodeAssessment | null {
  const judge = n.deferred;
  if (judge) {
    n.deferred = undefined;
    n.assessment = judge();
  }
  return n.assessment;
}

/** What the last assessment says (also the last known state of an offline node). */
function judged(n: NodeRecord, hasDesired: boolean): Derived {
  // Judged whatever the status says (a failed node's row counts its rules' differences too),
  // unless its turn has not come yet in a sliced push or re-judge.
  const a = n.behind === undefined ? assessmentOf(n) : null;
  if (n.lastApply && !n.lastApply.ok)
    return { status: "error", summary: `apply failed: ${n.lastApply.error ?? "no reason given"}` };
  if (!hasDesired) return { status: "error", summary: "no valid desired config to compare with" };
  if (n.behind !== undefined)
    return { status: "unknown", summary: notJudgedSummary(n.behind), notJudged: true };
  if (!a) return { status: "applying", summary: "waiting for the first snapshot" };
  if (a.unknown)
    return { status: a.unknown.error ? "error" : "in-sync", summary: a.unknown.reason };
  return { status: a.report.status, summary: a.report.summary };
}

/** An offline node's last known state; one known from before the restart says so. */
function offlineSummary(n: NodeRecord, hasDesired: boolean): string {
  if (n.restored) return restoredSummary(n.restored);
  return n.snapshot ? judged(n, hasDesired).summary : "disconnected before reporting its rules";
}

/**
 * Status by urgency; an offline node's summary is its last known one (the UI says how old).
 * `mono`: now on the monotonic clock `verifyUntil` is on.
 */
export function deriveStatus(n: NodeRecord, hasDesired: boolean, mono: number): Derived {
  if (!n.connected) return { status: "offline", summary: offlineSummary(n, hasDesired) };
  // A hung reporter's last snapshot is no answer about now: never count it "in sync".
  if (n.silent)
    return {
      status: "unknown",
      summary: n.snapshot
        ? `not responding (last known: ${judged(n, hasDesired).summary})`
        : "not responding before reporting its rules",
    };
  if (n.pending) {
    return {
      status: "applying",
      summary:
        n.pending.kind === "resync" ? "resync requested" : applyingSummary(n.pending.revision),
    };
  }
  // Past the grace too while the snapshot read after the apply has not come: the one held
  // predates the apply, and judged against its revision it would read as drifted.
  if ((n.verifyUntil !== null && mono < n.verifyUntil) || n.rulesAfterApply === true)
    return { status: "applying", summary: "applied; waiting for the node's rules" };
  if (n.rulesUnknown !== undefined) return { status: "unknown", summary: n.rulesUnknown };
  return judged(n, hasDesired);
}

export function livenessOf(n: Pick<NodeRecord, "connected" | "silent">): Liveness {
  return !n.connected ? "offline" : n.silent ? "silent" : "live";
}

const unknown = (reason: string): HealSchedule => ({ kind: "unknown", reason });

/** When the node heals drift on its own, as far as its reporter told (see HealSchedule). */
export function healSchedule(n: NodeRecord): HealSchedule {
  if (n.hello.mode === "observe") return { kind: "observe" };
  if (!n.connected)
    return unknown("the reporter is offline: it keeps enforcing on its own, unseen from here");
  if (n.silent) return unknown("the reporter is not responding");
  const s = n.schedule;
  if (!s) return unknown("this reporter does not report its resync schedule (an older version)");
  if (s.resyncMs === null) return unknown("the reporter has no config to enforce yet");
  return { kind: "periodic", heal: s.heal, intervalMs: s.resyncMs, nextResyncAt: s.nextResyncAt };
}

export function countBySeverity(differences: readonly Difference[]): {
  critical: number;
  warnings: number;
} {
  let critical = 0;
  let warnings = 0;
  for (const d of differences) {
    if (d.severity === "critical") critical++;
    else if (d.severity === "warning") warnings++;
  }
  return { critical, warnings };
}

/** How current what we know of the node is (see Freshness). */
export function freshnessOf(n: NodeRecord): Freshness {
  const out: Freshness = {
    connected: n.connected,
    liveness: livenessOf(n),
    lastSeenAt: n.lastSeenAt,
    lastReportAt: n.snapshotReceivedAt,
  };
  if (n.restored) out.notHeardSinceStart = n.restored.startedAt;
  return out;
}

type NotKnown = NonNullable<NodeSummary["notKnownHere"]>;
const severityNotKnown = (reason: string): NotKnown => ({ fields: ["severity"], reason });

/** Why a row's severity counts are placeholders: one per cause, said as it is. */
const SEVERITY = {
  applying: severityNotKnown(
    "the node is applying its desired revision: its rules are judged when it reports them",
  ),
  resync: severityNotKnown(
    "the node is re-applying on a resync request: its rules are judged when it reports them",
  ),
  applied: severityNotKnown(
    "the node applied its desired revision: its rules are judged when it reports the ones it applied",
  ),
  restored: severityNotKnown(
    "not heard from since the dashboard restarted: its rules are judged when its reporter reconnects and reports them",
  ),
  offlineNoRules: severityNotKnown(
    "the node went offline before reporting its rules: they are judged when it reconnects and reports them",
  ),
  silentNoRules: severityNotKnown(
    "the reporter stopped responding before reporting the node's rules",
  ),
  digestNotHeld: severityNotKnown(
    "its rules came named by a digest this dashboard does not hold: they are judged when the reporter sends them whole",
  ),
  notReported: severityNotKnown(
    "the node has not reported its rules yet: they are judged when it does",
  ),
  noDesired: severityNotKnown("there is no valid desired config to judge its rules against"),
  notJudged: severityNotKnown("its rules have not been judged against its desired revision yet"),
} as const;

/**
 * Why the node's severity is not known (undefined: it is): its judgement put off, or none made
 * (no rules, no desired config). The cause is checked in the order it holds the judgement
 * back: a node held back by its wave, offline, that never reported rules is not "applying".
 */
export function severityUnknown(n: NodeRecord): NotKnown | undefined {
  if (!n.deferred && n.assessment) return undefined;
  if (n.connected && n.pending)
    return n.pending.kind === "resync" ? SEVERITY.resync : SEVERITY.applying;
  if (n.snapshot === null) return noRules(n);
  if (!n.judgedAgainst) return SEVERITY.noDesired;
  if (n.rulesAfterApply === true || n.verifyUntil !== null) return SEVERITY.applied;
  return SEVERITY.notJudged;
}

/** Why a node holds no rules to judge. */
function noRules(n: NodeRecord): NotKnown {
  if (n.restored) return SEVERITY.restored;
  if (!n.connected) return SEVERITY.offlineNoRules;
  if (n.silent) return SEVERITY.silentNoRules;
  return n.rulesUnknown !== undefined ? SEVERITY.digestNotHeld : SEVERITY.notReported;
}

/**
 * Why a resync would leave drifted `n` drifted (shared resyncCannotHeal: every difference is one
 * an apply never rewrites); undefined when it heals something, `n` is not drifted, or its rules
 * are not judged (then a resync is not refused for a reason not known).
 */
export function resyncCannotHealOf(n: NodeRecord): string | undefined {
  if (n.status !== "drifted" || n.deferred || !n.assessment) return undefined;
  return resyncCannotHeal(n.assessment.report.differences) ?? undefined;
}

export function toSummary(n: NodeRecord): NodeSummary {
  const { critical, warnings } = countBySeverity(n.assessment?.report.differences ?? []);
  // Fields copied, not spread: the rows of every push are built here (a spread copies slowly).
  const fresh = freshnessOf(n);
  const row: NodeSummary = {
    name: n.name,
    os: n.hello.os,
    mode: n.hello.mode,
    status: n.status,
    summary: n.summary,
    connected: fresh.connected,
    liveness: fresh.liveness,
    lastSeenAt: fresh.lastSeenAt,
    lastReportAt: fresh.lastReportAt,
    appliedRevision: n.appliedRevision,
    backend: n.hello.backend,
    kernel: n.hello.kernel,
    iptablesVersion: n.hello.iptablesVersion,
    critical,
    warnings,
  };
  // Assigned, not spread into the literal: this runs for every changed row of every push.
  const notKnown = severityUnknown(n);
  if (notKnown) row.notKnownHere = notKnown;
  if (fresh.notHeardSinceStart !== undefined) row.notHeardSinceStart = fresh.notHeardSinceStart;
  const cannotHeal = resyncCannotHealOf(n);
  if (cannotHeal) row.resyncCannotHeal = cannotHeal;
  return row;
}

export function addEvent(n: NodeRecord, kind: string, message: string, time: number): void {
  n.events.add(time, kind, message);
}

/** A node seen for the first time: not connected until its link is registered. */
export function newRecord(hello: Hello): NodeRecord {
  return {
    name: hello.node,
    hello,
    connected: false,
    lastSeenAt: null,
    silent: false,
    snapshot: null,
    appliedRevision: null,
    pending: null,
    verifyUntil: null,
    snapshotReceivedAt: null,
    lastApply: null,
    schedule: null,
    assessment: null,
    status: "offline",
    summary: "",
    firstReport: true,
    events: new EventLog(),
  };
}
