// Wire types of the dashboard's HTTP API and live events (docs/api.md): the server builds
// exactly these and the UI reads exactly these. Times are ms since the epoch on the
// dashboard's clock unless a field says otherwise.
import { z } from "zod";
import type { CombinedVerdict } from "./analysis/backends.js";
import type { Verdict } from "./analysis/evaluate.js";
import type { ConflictCurrent, Impact } from "./api-config.js";
import type { AgentFlags, Issue } from "./config.js";
import type { ConfigDiff } from "./config-diff.js";
import type { RulesBackend } from "./node-verdicts.js";
import type { NodeView } from "./node-view.js";
import type { PolledRules } from "./polled-rules.js";
import type { ApplyResult, HealPolicy, Mode, NodeOs } from "./protocol.js";
import type { KeyChange } from "./revision-compare.js";
import type { RolloutPause, RolloutPhase } from "./rollout-machine.js";
import type { WavesStrategy } from "./rollout-plan.js";
import type { VerdictView } from "./verdict-view.js";

/**
 * A node's status by urgency. `unknown`: the reporter is connected but silent (maybe hung), so
 * nothing current can be said; its summary gives the last known state (also: rules not known
 * yet, or not judged yet against a revision just saved). `offline`: disconnected.
 * Argo CD says "Unknown" for the same case.
 */
export const NODE_STATUSES = [
  "in-sync",
  "drifted",
  "applying",
  "error",
  "unknown",
  "offline",
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export type Role = "editor" | "viewer";

/**
 * How current what the dashboard shows of a node is. `live`: connected and heard from (any
 * frame, heartbeats included) within `SILENT_AFTER_HEARTBEATS` heartbeat intervals.
 * `silent`: still connected but quiet for longer, so the reporter or its node may be hung.
 * `offline`: disconnected. For `silent` and `offline` every rule, difference and verdict shown
 * is the node's last known state, as of `lastSeenAt`.
 */
export const LIVENESS = ["live", "silent", "offline"] as const;
export type Liveness = (typeof LIVENESS)[number];

/**
 * A reporter sends a heartbeat every interval (the welcome's `heartbeatMs`), so a gap of two
 * means at least one beat was missed; the gateway drops the connection after three.
 */
export const SILENT_AFTER_HEARTBEATS = 2;

export interface Freshness {
  connected: boolean;
  liveness: Liveness;
  /**
   * When the last frame (of any kind) arrived. Live events refresh it only when `liveness`
   * changes: it is exact for silent and offline nodes, which is when it is shown.
   */
  lastSeenAt: number | null;
  /**
   * When the last snapshot (the node's rules) arrived; null before the first, and for a node
   * another replica holds (only its holder knows).
   */
  lastReportAt: number | null;
  /**
   * Set (to when this dashboard started, ms) for a node known only from the roster this
   * dashboard kept before it restarted, not heard from since: offline, and what is shown of it
   * (last seen, applied revision, status before the restart) is from before (restoredNote).
   */
  notHeardSinceStart?: number;
}

export interface NodeSummary extends Freshness {
  name: string;
  os: NodeOs;
  mode: Mode;
  status: NodeStatus;
  /** What differs, in a few words (for offline nodes: as last known). */
  summary: string;
  appliedRevision: number | null;
  backend: string;
  kernel: string;
  iptablesVersion: string;
  /** Differences by severity in the (last known) assessment. */
  critical: number;
  warnings: number;
  /** Set when another dashboard replica holds the node (its rules are there, not here). */
  heldBy?: HeldBy;
  /** Its place in the staged rollout under way (or aborted); absent when there is none. */
  rollout?: NodeRolloutPlace;
  /** Why the dashboard cannot resync this node now (offline; observe mode without pod
   * restarts); absent when it can. */
  resyncUnavailable?: string;
  /**
   * Set on a drifted node whose every difference is one a resync does not rewrite (other
   * components' rules, the other iptables backend's): why a resync leaves it drifted (shared
   * resyncCannotHeal). Absent when a resync heals something, or it is not known here.
   */
  resyncCannotHeal?: string;
  /**
   * Fields of the row that are placeholders, not facts, and why: a node held by another replica
   * whose NodeMasquerade does not carry them, or one whose rules are not judged (yet): applying,
   * not reported, not heard from since a restart (`severity`).
   */
  notKnownHere?: { fields: NotKnownField[]; reason: string };
}

/** Row fields a replica may not know of a node another replica holds. */
export type NotKnownField = "os" | "kernel" | "iptablesVersion" | "severity";

export interface NodeEvent {
  time: number;
  kind: string;
  message: string;
  /**
   * Kept from before the dashboard last restarted (the file store keeps each node's newest
   * events in node-events.json); absent for events of this run.
   */
  beforeRestart?: true;
}

/** Outcomes of nodes that acted on a rollout after it finished. */
export interface RolloutLate {
  /** Applied the revision later ("caught up later"). */
  done: number;
  /** Sent it (or offline) and not applied yet. */
  pending: number;
  failed: number;
}

export interface Rollout {
  revision: number;
  resourceVersion: string;
  startedAt: number;
  /** Set once, when every target has applied or failed; never changed afterwards. */
  finishedAt: number | null;
  /**
   * Targets: every enforce-mode node known when the config changed, connected or not, plus
   * nodes that joined before it finished. From `finishedAt` on these counts are frozen.
   */
  total: number;
  /** Targets that applied the revision and whose post-apply rules are judged. */
  done: number;
  /** Targets not done yet (not applied, or applied awaiting their rules), offline ones included. */
  pending: number;
  /** Of `pending`: targets whose reporter is offline; they get the config when they return. */
  offline: number;
  /** Of `pending` (connected ones): targets a staged rollout has not released yet. */
  heldBack?: number;
  /**
   * Of `pending`: targets that applied the revision whose post-apply rules are not judged yet
   * (sent by a digest the dashboard does not hold, or waiting in its snapshot intake); absent
   * when none. A target is `done` once it applied and its rules are judged.
   */
  awaitingRules?: number;
  /**
   * Of `offline`: targets not heard from since this dashboard started; absent when none. Those
   * a staged rollout resumed after a restart counted in its waves when it was last saved (no
   * reporter of theirs has reconnected here, so they are not known by name), and those known by
   * name from the node roster kept before the restart (NodeSummary.notHeardSinceStart). The
   * rollout does not finish while any is left: what they run is not known.
   */
  unseen?: number;
  /**
   * Set when this tracking began at a dashboard start, from a persisted staged rollout (its
   * counts start from the nodes that reconnect since), not at the save: `startedAt` is then the
   * rollout's own start (or its abort's), and the time to its finish spans the restart.
   */
  resumedAt?: number;
  failed: number;
  late: RolloutLate;
}

export interface FleetSummary {
  total: number;
  byStatus: Partial<Record<NodeStatus, number>>;
  resourceVersion: string;
  /** The stored config's revision; `desiredRevision`: the one nodes enforce (as GET /api/config). */
  revision: number;
  desiredRevision: number | null;
  /** As GET /api/config: the revision whose staged rollout was aborted; null: none. */
  abortedRevision: number | null;
  rollout: Rollout | null;
  /** What "resync all drifted" (POST /api/resync {status: "drifted"}) would do now. */
  driftedResync?: DriftedResync;
  /**
   * When this dashboard process started (ms, its clock): an empty fleet shortly after is
   * reporters reconnecting (they back off up to 30 s), not a cluster without any. Always sent by
   * the server; absent from a summary a browser pieced together before its first one.
   */
  startedAt?: number;
}

/** Drifted nodes a bulk resync reaches, and those it must skip, by reason. */
export interface DriftedResync {
  resyncable: number;
  /** Most first; the counts add up to the drifted nodes the dashboard cannot resync. */
  skipped: { reason: string; count: number }[];
  /**
   * Drifted nodes it could resync but leaves alone, because a resync would not change what
   * differs (NodeSummary.resyncCannotHeal), by reason, most first. Absent from an older server.
   */
  cannotHeal?: { reason: string; count: number }[];
}

/** GET /api/nodes */
export interface NodesResponse {
  /** Ordered by name; one page when `limit` was given. */
  nodes: NodeSummary[];
  /** Present when more nodes match: send it back as `continue` (like a Kubernetes list). */
  continue?: string;
  /** Matching nodes after this page (with `continue`). */
  remainingItemCount?: number;
  summary: FleetSummary;
  /** The dashboard's clock when it answered (to show ages right on a skewed browser clock). */
  serverTime: number;
}

/**
 * When the node heals drift on its own. `periodic`: the reporter re-applies every
 * `intervalMs` (next at `nextResyncAt`, null while one runs); with `heal: "immediate"` it also
 * re-applies as soon as it sees drift (apps/reporter enforcer). `observe`: never, the upstream
 * agent owns the rules. `unknown`: the dashboard cannot tell (`reason`).
 */
export type HealSchedule =
  | { kind: "observe" }
  | { kind: "unknown"; reason: string }
  | {
      kind: "periodic";
      heal: HealPolicy;
      intervalMs: number;
      nextResyncAt: number | null;
    };

export interface NodeInfo extends NodeSummary {
  flags: AgentFlags;
  reporterVersion: string;
  randomFullySupported: boolean;
}

export interface PendingApply {
  kind: "desired" | "resync";
  revision: number | null;
  sentAt: number;
}

/** GET /api/nodes/:name */
export interface NodeDetail {
  node: NodeInfo;
  /** Desired vs actual as the node page shows it (last known when `node.liveness` is not live). */
  view: NodeView | null;
  /** Why `view` is null: no snapshot yet, no valid desired config, or the node cannot be judged. */
  viewUnavailable: string | null;
  heal: HealSchedule;
  /** When the reporter read the rules in `view`, on the reporter's clock. */
  snapshotAt: number | null;
  lastApply: ApplyResult | null;
  pending: PendingApply | null;
  /** Newest first, at most 50. */
  events: NodeEvent[];
  serverTime: number;
  /** Where the node stands in a staged rollout that is not finished (or was aborted). */
  rollout?: NodeRolloutPlace | null;
  /**
   * Set when another replica holds the node's reporter connection: its rules, the packet tester
   * and its timeline are there; `portForward` opens that replica (shared kubectl.ts). Null when
   * its reporter is connected to no live replica (disconnected, its holder dead, or its object
   * naming no replica): `replica` is then the last one named, there is none to open.
   */
  heldElsewhere?: {
    replica: string;
    portForward: string | null;
    /**
     * True when the reporter is connected to no replica but `replica`, which held it last, is
     * alive: `portForward` opens its last known rules and history, not a live connection.
     */
    lastHolder?: boolean;
  };
}

/**
 * GET /api/nodes/:name of a node another replica holds: the node as its NodeMasquerade says,
 * no view (the rules are on the holding replica), no timeline, and how to open that replica.
 */
export type RemoteNodeDetail = Omit<NodeDetail, "node"> & {
  node: NodeSummary & { heldBy: HeldBy };
};

/** A node's wave in a staged rollout, and the revision it is judged against because of it. */
export interface NodeRolloutPlace {
  /** The revision rolling out. */
  revision: number;
  wave: number;
  /** "canary", "wave 1", … */
  waveName: string;
  released: boolean;
  aborted: boolean;
  /** The revision this node enforces now (and is compared with). */
  desiredRevision: number;
  /**
   * `waiting`: its wave is not released (it keeps `desiredRevision`, the previous one);
   * `applying`: it has not applied `desiredRevision` yet; `awaiting-rules`: it applied it, its
   * post-apply rules not judged yet (the waves count it pending); `applied`: it runs it, its
   * rules judged; `failed`: the rollout counts it as failed (`failure` says why) until a retry.
   */
  progress?: RolloutNodeProgress;
  failure?: string;
  /**
   * With `failed`: the node runs `desiredRevision` in sync now (healed by a resync since), while
   * the rollout still counts it as failed until a retry. Absent otherwise.
   */
  inSyncNow?: true;
  /**
   * The node is drifted, but showed the same drift against the previous revision before this
   * one reached it: not counted against the rollout (the sentence says so). Absent otherwise.
   */
  driftedBefore?: string;
}

export type RolloutNodeProgress = "waiting" | "applying" | "awaiting-rules" | "applied" | "failed";

export const MARK_ERROR = "a mark is a number from 0 to 0xffffffff, e.g. 0 or 0x4000";

/** A packet mark as a number or as text the way iptables prints it ("0x4000", "16384"); undefined when it is not one. */
export function parseMark(v: number | string): number | undefined {
  const n =
    typeof v === "number"
      ? v
      : /^(0x[0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(v.trim())
        ? Number(v.trim())
        : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

const markField = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = parseMark(v);
  if (n !== undefined) return n;
  ctx.addIssue({ code: "custom", message: MARK_ERROR });
  return z.NEVER;
});

/**
 * POST /api/nodes/:name/evaluate: the packet fields `ipmasq why` takes. Only `ip` (the
 * destination) is required; a field left out makes the rules matching on it conditions of
 * the answer.
 */
export const evaluateRequestSchema = z.strictObject({
  ip: z.string().trim().min(1).max(64),
  source: z.string().trim().min(1).max(64).optional(),
  /** tcp, udp, icmp, sctp, … or a protocol number. */
  protocol: z
    .union([z.string().trim().min(1).max(16), z.number().int().min(0).max(255)])
    .optional(),
  dport: z.number().int().min(0).max(65535).optional(),
  mark: markField.optional(),
});
export type EvaluateRequest = z.input<typeof evaluateRequestSchema>;

/** POST /api/nodes/:name/evaluate */
export interface EvaluateResponse {
  /**
   * The rules the config wants in the node's backend, as if they were the node's only rules: the
   * agent's chain with upstream's jump, or on a native nftables node the agent's table.
   */
  desired: Verdict;
  /**
   * The node's rules: every backend that reported this family (a CombinedVerdict when there
   * are two; both act on the same packets).
   */
  actual: Verdict | CombinedVerdict;
  /** Both verdicts as the tester shows them: the answer in a word, branches grouped. */
  view: { desired: VerdictView; actual: VerdictView };
  /**
   * The backends `actual` judged: each iptables backend that reported the family, or on a native
   * nftables node `nftables` and each iptables backend holding nat rules.
   */
  backends: RulesBackend[];
  /** How current the rules `actual` was computed from are. */
  rules: Freshness;
  /**
   * Set for a live node when `actual` read a backend its reporter polls (iptables-legacy): when
   * those rules were reported, and that a change made there since the last poll is not in the
   * answer yet. Absent when every backend read is watched (nf_tables, nftables).
   */
  polled?: PolledRules;
}

/** POST /api/nodes/:name/resync */
export interface ResyncResponse {
  requestId: string;
  /**
   * `sent`: this replica sent it to the node's reporter (or restarted the upstream agent);
   * `requested`: another replica holds the node, asked through its NodeMasquerade
   * (spec.resyncRequest) — it performs it and echoes status.resyncObserved. Absent: sent.
   */
  outcome?: "sent" | "requested";
  /** With `requested`: the replica holding the node. */
  replica?: string;
}

/** POST /api/resync */
export interface BulkResyncResponse {
  /** Resynced here (sent) or requested of the replica holding them (see `requested`). */
  nodes: string[];
  skipped: { name: string; reason: string }[];
  /** Of `nodes`: those held by another replica, asked through their NodeMasquerade, by replica. */
  requested?: { name: string; replica: string }[];
  /**
   * With `requested`: those requests are written through this replica's rate limit, not at
   * once. `waiting`: requests not yet written (this call's and earlier ones'), `perSecond`: the
   * rate, `drainSeconds`: when the last of them is written.
   */
  requestBacklog?: { waiting: number; perSecond: number; drainSeconds: number };
}

/**
 * A node another dashboard replica holds (Kubernetes mode with every replica active): this
 * replica shows what its NodeMasquerade carries, never rules it does not have.
 */
export interface HeldBy {
  /** The pod name of the replica holding the node's reporter connection. */
  replica: string;
  /**
   * Differences the holder counted; null when it has not judged the node's rules against its
   * desired revision yet (put off while the node applies it) or its status records no count.
   */
  differences: number | null;
  desiredRevision: number | null;
}

/** DELETE /api/nodes/:name */
export interface RemovedResponse {
  removed: string;
}

/** POST /api/login */
export interface LoginResponse {
  role: Role;
  user: string;
  csrfToken: string;
}

/** GET /api/me */
export interface Me {
  role: Role;
  user: string;
}

/**
 * Why a browser session no longer exists, told on the 401 and on the login page
 * (`/login?ended=<reason>`). `unknown`: the cookie names no session this dashboard knows (it
 * restarted: sessions live in memory, or the session ended long ago).
 */
export const SESSION_ENDS = ["expired", "evicted", "revoked", "unknown"] as const;
export type SessionEndReason = (typeof SESSION_ENDS)[number];

/** The sentence for each reason, the same in the API's 401 and on the login page. */
export const SESSION_END_MESSAGE: Record<SessionEndReason, string> = {
  expired: "Your session expired. Sign in again.",
  evicted:
    "You were signed out: this sign-in was used in more browsers or tabs than the dashboard keeps sessions for, and this one was the least recently used. Sign in again.",
  revoked:
    "Your token is no longer accepted (revoked, expired, or its access removed). Sign in with a current token.",
  unknown:
    "Your session is no longer known here (the dashboard restarted or it ended). Sign in again.",
};

export function isSessionEndReason(s: string | null): s is SessionEndReason {
  return s !== null && (SESSION_ENDS as readonly string[]).includes(s);
}

/** Every error body. */
export interface ErrorBody {
  error: string;
  /** 401 for a session cookie whose session ended: why. */
  sessionEnded?: SessionEndReason;
  errors?: Issue[];
  warnings?: Issue[];
  /** 409 on a stale config save: the revision that is current now. */
  current?: ConflictCurrent;
}

/** Live event `config` (and part of `hello`). */
export interface ConfigEvent {
  resourceVersion: string;
  /** The stored config's revision; `desiredRevision`: the one nodes enforce (as GET /api/config). */
  revision: number;
  desiredRevision: number | null;
  /** As GET /api/config: the revision whose staged rollout was aborted; null: none. */
  abortedRevision: number | null;
  valid: boolean;
}

/** Live event `hello`: the whole fleet, sent first on every (re)connect. */
export interface HelloEvent {
  nodes: NodeSummary[];
  summary: FleetSummary;
  config: ConfigEvent;
  rollout: Rollout | null;
  /** The staged rollout, when the newest change rolls out in waves. */
  staged?: StagedRolloutView | null;
  serverTime: number;
}

/** Live event `fleet`: changed nodes only, coalesced. */
export interface FleetEvent {
  nodes: NodeSummary[];
  removed: string[];
  summary: FleetSummary;
}

/** Live event `rollout`. */
export type RolloutEvent = Rollout | null;

/** GET /api/events: each event name and its `data`. */
export interface LiveEvents {
  hello: HelloEvent;
  fleet: FleetEvent;
  config: ConfigEvent;
  rollout: RolloutEvent;
  "staged-rollout": StagedRolloutView | null;
}

/** One wave of a staged rollout (wave 0 is the canary). Node lists hold at most 50 names. */
export interface RolloutWaveView {
  index: number;
  /** "canary", "wave 1", … */
  name: string;
  /** Released: its nodes are sent the new revision. */
  released: boolean;
  total: number;
  applied: number;
  pending: number;
  failed: number;
  /**
   * Of `pending`, members the wave counted that are not known here yet: after a dashboard
   * restart, nodes whose reporters have not reconnected (those listed by name from the node
   * roster, NodeSummary.notHeardSinceStart, included); on a follower replica, nodes whose
   * NodeMasquerade it has not read. Absent when none. Whether they applied is not known here.
   */
  unseen?: number;
  appliedNodes: string[];
  pendingNodes: string[];
  failedNodes: { name: string; reason: string }[];
}

/** Who did what to a rollout, and when (ISO 8601). */
export interface RolloutAction {
  action: "start" | "promote" | "retry" | "abort" | "pause" | "resume" | "finish";
  user: string;
  time: string;
  detail: string;
}

/** GET /api/rollout and the live event `staged-rollout`: the current staged rollout. */
export interface StagedRolloutView {
  resourceVersion: string;
  revision: number;
  /** The revision nodes not yet reached (and, after an abort, every node) keep. */
  previousResourceVersion: string | null;
  previousRevision: number | null;
  strategy: WavesStrategy;
  phase: RolloutPhase;
  /** The highest released wave (0 = the canary). */
  step: number;
  pause: RolloutPause | null;
  aborted: boolean;
  /** What is happening, in one sentence (the reason when paused). */
  message: string;
  /**
   * Why the rollout is held (other dashboard replicas are active: no wave is released or
   * finished, promote/retry/abort are refused); absent when it is not.
   */
  held?: string;
  waves: RolloutWaveView[];
  /** Newest last, at most 100. */
  actions: RolloutAction[];
  startedAt: number;
  startedBy: string;
}

/** One side of GET /api/history/compare. */
export interface RevisionRef {
  resourceVersion: string;
  revision: number;
  author: string;
  /** ISO 8601. */
  time: string;
  message: string;
}

/** GET /api/history/compare?from=&to= : two revisions, every key old → new, and the impact. */
export interface RevisionCompareResponse {
  from: RevisionRef;
  to: RevisionRef;
  keys: KeyChange[];
  diff: ConfigDiff;
  /** Going from `from` to `to`, on today's nodes (as the save review shows it). */
  impact: Impact;
  /**
   * With several config sources: true when both sides are the revisions' texts merged with
   * today's other sources (what nodes would run), false when a merge conflicts and the stored
   * texts are compared. Absent with one source.
   */
  merged?: boolean;
  /** What to know to read the comparison (merged sources), in sentences. */
  notes?: string[];
}

/**
 * GET /api/history/:resourceVersion/rollback-impact : what rolling back to a stored revision
 * changes on the nodes. Computed as the save review computes it: from the config nodes run
 * (after an aborted rollout the stable revision, with several config sources the merge) to
 * the config they would get (the target's text merged with today's other sources).
 */
export type RollbackImpactResponse =
  | {
      known: true;
      to: RevisionRef;
      /** The revision nodes run, compared from (merged revisions numbered as the fleet shows them). */
      from: { revision: number; resourceVersion: string };
      /** Why `from` is not simply the current revision, and what else to know, in sentences. */
      notes: string[];
      /** True when nodes would get the target's text merged with other config sources. */
      merged: boolean;
      keys: KeyChange[];
      diff: ConfigDiff;
      impact: Impact;
      /** The rollback would be refused (a node cannot take it, a new source conflict): why. */
      refusal?: string;
    }
  | {
      known: false;
      to: RevisionRef;
      /** Why the change cannot be computed (no valid config nodes run, the merge conflicts). */
      reason: string;
    };
