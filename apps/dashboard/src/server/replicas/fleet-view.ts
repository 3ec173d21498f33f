// The fleet as every replica shows it: the nodes this replica holds (their records win) plus the
// nodes other replicas hold, as their NodeMasquerade says — status, revision, backend, mode and
// drift count, never rules this replica does not have. A node whose holder stopped renewing its
// Lease is `unknown` with the reason and its last known state, until its reporter reconnects.
import type {
  HeldBy,
  NodeOs,
  NodeStatus,
  NodeSummary,
  NumberedConfig,
  Rollout,
} from "@masq/shared";
import { NODE_STATUSES, recordedOutcome } from "@masq/shared";
import type { FleetState } from "../fleet/fleet-state.js";
import { type NodeRecord, toSummary } from "../fleet/node.js";
import { lateKey, type Outcome } from "../fleet/rollout.js";
import {
  MAX_COUNTS_UNKNOWN_CHARS,
  type NodeMasquerade,
  type NodeMasqueradeStatus,
} from "./node-masquerade.js";
import type { ReplicaLiveness } from "./replica-leases.js";

/**
 * Why a node held elsewhere is not connected there (judgeRemote's verdict), and whether the
 * replica its object names renews its Lease: alive, that replica has the node's last record
 * (its last known rules, history) to open even with no reporter connected.
 */
export interface RemoteDisconnect {
  reason: Exclude<Verdict, "live">;
  holderLive: boolean;
}

export type RemoteSummary = NodeSummary & { heldBy: HeldBy; disconnected?: RemoteDisconnect };

export interface FleetViewSources {
  fleet: FleetState;
  objects: { get(name: string): NodeMasquerade | undefined; values(): Iterable<NodeMasquerade> };
  replica: string;
  liveness: (replica: string) => ReplicaLiveness;
}

/** The CR's view of `name` when this replica's own record is not the one to show. */
export function remoteOf(s: FleetViewSources, name: string): RemoteSummary | undefined {
  const cr = shownObject(s, name);
  return cr && summaryOfObject(s, cr);
}

/** The NodeMasquerade to show for `name`, when this replica's own record is not the one. */
function shownObject(s: FleetViewSources, name: string): NodeMasquerade | undefined {
  const local = s.fleet.nodes.get(name);
  if (local?.connected) return undefined;
  const cr = s.objects.get(name);
  if (!cr) return undefined;
  const held = cr.status?.replica;
  if (local && (held === undefined || held === s.replica)) return undefined;
  return cr;
}

/** A status without details (or with older ones) was written by the previous release. */
const NO_DETAILS: NonNullable<NodeSummary["notKnownHere"]> = {
  fields: ["kernel", "iptablesVersion", "severity"],
  reason:
    "the replica holding this node has not recorded them in its NodeMasquerade (a dashboard of the previous release)",
};

/** The OS a reporter's backend implies: only Windows reporters write the CNI config. */
const OS_OF_BACKEND: Record<string, NodeOs> = {
  cni: "windows",
  windows: "windows",
  nf_tables: "linux",
  legacy: "linux",
  nftables: "linux",
  memory: "linux",
};

/**
 * The node's OS as its status says it (its details, else its backend, else details an older
 * write left: a node's OS does not change); null when nothing there tells it.
 */
function osOf(st: NodeMasqueradeStatus | undefined, d: NodeDetailsOf): NodeOs | null {
  return d?.os ?? OS_OF_BACKEND[st?.backend ?? ""] ?? st?.details?.os ?? null;
}

type NodeDetailsOf = NonNullable<NodeMasqueradeStatus["details"]> | undefined;

/** Details without counts: the holder has not judged the node's rules against its revision. */
const NOT_COUNTED: NonNullable<NodeSummary["notKnownHere"]> = {
  fields: ["severity"],
  reason:
    "the replica holding this node has not judged its rules against its desired revision yet (it judges them when the node reports the rules it applies)",
};

/** Why the counts are absent: the holder's words when it wrote them (clipped), else generic. */
function notCountedOf(d: NonNullable<NodeDetailsOf>): NonNullable<NodeSummary["notKnownHere"]> {
  const why = d.countsUnknown;
  return why
    ? { fields: ["severity"], reason: why.slice(0, MAX_COUNTS_UNKNOWN_CHARS) }
    : NOT_COUNTED;
}

/** What a row cannot know of the node, and why; undefined when it knows all. */
function notKnownOf(
  st: NodeMasqueradeStatus | undefined,
  d: NodeDetailsOf,
  os: NodeOs | null,
): NodeSummary["notKnownHere"] {
  if (!st)
    return {
      fields: ["os", ...NO_DETAILS.fields],
      reason: "no replica has reported this node yet",
    };
  if (d) return counted(d) ? undefined : notCountedOf(d);
  if (os !== null) return NO_DETAILS;
  return {
    fields: ["os", ...NO_DETAILS.fields],
    reason: `${NO_DETAILS.reason}; its backend ("${st.backend ?? ""}") does not tell the OS`,
  };
}

/** Whether the details carry the severity counts (a put-off judgement writes them null). */
function counted(d: NonNullable<NodeDetailsOf>): boolean {
  return typeof d.critical === "number" && typeof d.warnings === "number";
}

/** The row's facts from the status's details; placeholders said to be such without them. */
function factsOf(st: NodeMasquerade["status"]) {
  const d = st?.details?.observedAt === st?.observedAt ? st?.details : undefined;
  const os = osOf(st, d);
  const notKnownHere = notKnownOf(st, d, os);
  return {
    // A placeholder when not known (notKnownHere names "os"): nothing may act on it.
    os: os ?? ("linux" as const),
    mode: st?.mode === "observe" ? ("observe" as const) : ("enforce" as const),
    backend: st?.backend ?? "",
    kernel: d?.kernel ?? "",
    iptablesVersion: d?.iptablesVersion ?? "",
    critical: d?.critical ?? 0,
    warnings: d?.warnings ?? 0,
    ...(notKnownHere ? { notKnownHere } : {}),
    // The holder's word that a resync would leave the drifted node drifted.
    ...(d?.resyncCannotHeal && st?.health === "drifted"
      ? { resyncCannotHeal: d.resyncCannotHeal.slice(0, MAX_COUNTS_UNKNOWN_CHARS) }
      : {}),
  };
}

/** The OS of a node held elsewhere, or null when this replica does not know it. */
export function remoteOs(n: RemoteSummary): NodeOs | null {
  return n.notKnownHere?.fields.includes("os") ? null : n.os;
}

function summaryOfObject(s: FleetViewSources, cr: NodeMasquerade): RemoteSummary {
  const st = cr.status;
  const name = cr.metadata.name;
  const seenAt = st ? Date.parse(st.observedAt) : Number.NaN;
  const base = {
    name,
    ...factsOf(st),
    appliedRevision: st?.appliedRevision ?? null,
    lastSeenAt: Number.isNaN(seenAt) ? null : seenAt,
    // When the node last sent its rules is the holder's to know: observedAt is the last status
    // change, which a rules change need not be. Not claimed here.
    lastReportAt: null,
    heldBy: {
      replica: st?.replica ?? "",
      // No drift: not judged (or not recorded), never "no differences".
      differences: st?.drift?.count ?? null,
      desiredRevision: st?.desiredRevision ?? null,
    },
  };
  const { vouchedUntil, verdict, ...judged } = judgeRemote(s, cr);
  // A holder that stopped renewing vouched for its connection until then, not only until the
  // node's last change: "last known" is that old, not older.
  if (vouchedUntil !== undefined && vouchedUntil > (base.lastSeenAt ?? 0))
    base.lastSeenAt = vouchedUntil;
  const out: RemoteSummary = {
    ...base,
    ...judged,
    liveness: judged.connected ? "live" : "offline",
  };
  if (verdict !== "live") out.disconnected = disconnectOf(s, verdict, st);
  return out;
}

/** A disconnected node's reason; its holder is live only for a reporter that left it alone. */
function disconnectOf(
  s: FleetViewSources,
  reason: Exclude<Verdict, "live">,
  st: NodeMasqueradeStatus | undefined,
): RemoteDisconnect {
  const holderLive = reason === "disconnected" && !!st && s.liveness(st.replica).live;
  return { reason, holderLive };
}

/** Why a node held elsewhere shows as it does (judgeRemote's decision, without its words). */
export type Verdict =
  | "no-status"
  | "no-replica"
  | "held-here"
  | "disconnected"
  | "holder-dead"
  /** Its holder died; the singleton Lease holder wrote it unknown (ReplicaSync). */
  | "marked-dead"
  | "live";

function verdictOf(s: FleetViewSources, st: NodeMasquerade["status"]): Verdict {
  if (!st) return "no-status";
  if (st.replica === "") return "no-replica";
  if (st.replica === s.replica) return "held-here";
  if (!st.connected) return st.health === "unknown" ? "marked-dead" : "disconnected";
  return s.liveness(st.replica).live ? "live" : "holder-dead";
}

/**
 * A node held elsewhere as the counts need it: its status and whether its reporter is live,
 * decided as its summary decides them but without building it (the fleet-wide counts run over
 * every node on each change-feed flush: no text, no object per node).
 */
function remoteStatus(s: FleetViewSources, cr: NodeMasquerade): NodeStatus {
  return statusOf(verdictOf(s, cr.status), cr.status);
}

function statusOf(v: Verdict, st: NodeMasquerade["status"]): NodeStatus {
  if (v === "live" && st) return st.health;
  return v === "held-here" || v === "disconnected" ? "offline" : "unknown";
}

function judgeRemote(
  s: FleetViewSources,
  cr: NodeMasquerade,
): {
  status: NodeStatus;
  summary: string;
  connected: boolean;
  verdict: Verdict;
  vouchedUntil?: number;
} {
  const st = cr.status;
  const v = verdictOf(s, st);
  const status = statusOf(v, st);
  if (!st)
    return {
      status,
      summary: "no replica has reported this node yet",
      connected: false,
      verdict: v,
    };
  const last = `${st.health}${st.message ? `: ${st.message}` : ""}`;
  const summary = {
    "no-replica": `its NodeMasquerade names no replica; last known: ${last}`,
    "held-here": `reporter disconnected (last known: ${last})`,
    disconnected: `reporter disconnected from ${st.replica} (last known: ${last})`,
    "holder-dead": `${s.liveness(st.replica).reason}; last known: ${last}`,
    "marked-dead": st.message ?? `reporter disconnected from ${st.replica} (last known: unknown)`,
    live: st.message ?? "",
  }[v as Exclude<Verdict, "no-status">];
  const renewed = v === "holder-dead" ? s.liveness(st.replica).lastRenewSeenAt : undefined;
  return {
    status,
    summary,
    connected: v === "live",
    verdict: v,
    ...(renewed !== undefined ? { vouchedUntil: renewed } : {}),
  };
}

/**
 * Visits every node to show as `fleetNodes` yields them: `local` for this replica's records,
 * `remote` for the NodeMasquerades of nodes shown as another replica holds them.
 */
function eachNode(
  s: FleetViewSources,
  local: (n: NodeRecord) => void,
  remote: (cr: NodeMasquerade) => void,
): void {
  for (const n of s.fleet.nodes.values()) {
    const cr = shownObject(s, n.name);
    if (cr) remote(cr);
    else local(n);
  }
  for (const cr of s.objects.values()) if (!s.fleet.nodes.has(cr.metadata.name)) remote(cr);
}

/** Every node to show, local records and remote summaries, unordered. */
export function* fleetNodes(s: FleetViewSources): Generator<NodeRecord | RemoteSummary> {
  for (const n of s.fleet.nodes.values()) {
    const r = remoteOf(s, n.name);
    yield r ?? n;
  }
  for (const cr of s.objects.values())
    if (!s.fleet.nodes.has(cr.metadata.name)) yield summaryOfObject(s, cr);
}

/**
 * A node to show, with what a list filters on (name, status) computed and its row built only
 * when asked: a page of /api/nodes summarizes the nodes it returns, not the whole fleet (a
 * summary of every NodeMasquerade per request cost ~0.1 ms each at 65,000 nodes).
 */
export interface FleetEntry {
  name: string;
  status: NodeStatus;
  node(): NodeRecord | RemoteSummary;
}

/** Every node to show as `fleetNodes` yields them, each row unbuilt (see FleetEntry). */
export function fleetEntries(s: FleetViewSources): FleetEntry[] {
  const out: FleetEntry[] = [];
  eachNode(
    s,
    (n) => out.push({ name: n.name, status: n.status, node: () => n }),
    (cr) =>
      out.push({
        name: cr.metadata.name,
        status: remoteStatus(s, cr),
        node: () => summaryOfObject(s, cr),
      }),
  );
  return out;
}

export const summarize = (n: NodeRecord | RemoteSummary): NodeSummary =>
  "hello" in n ? toSummary(n) : n;

/** The summary to send browsers for a changed node (undefined: it is gone everywhere). */
export function summaryOf(s: FleetViewSources, name: string): NodeSummary | undefined {
  const r = remoteOf(s, name);
  if (r) return r;
  const local = s.fleet.nodes.get(name);
  if (local) return toSummary(local);
  const cr = s.objects.get(name);
  return cr ? summaryOfObject(s, cr) : undefined;
}

export function countByStatus(s: FleetViewSources): {
  total: number;
  byStatus: Record<NodeStatus, number>;
} {
  const byStatus = Object.fromEntries(NODE_STATUSES.map((k) => [k, 0])) as Record<
    NodeStatus,
    number
  >;
  let total = 0;
  eachNode(
    s,
    (n) => {
      byStatus[n.status]++;
      total++;
    },
    (cr) => {
      byStatus[remoteStatus(s, cr)]++;
      total++;
    },
  );
  return { total, byStatus };
}

/**
 * The rollout counted over every node: this replica's targets, with each node held elsewhere
 * counted by its NodeMasquerade (recordedOutcome: applied the revision, its rules judged: done,
 * else awaiting its rules; its apply of the revision failed: failed; else pending, or offline) instead of as this
 * replica's offline target. `failedByStage`: nodes a staged rollout counts failed (a drift
 * after applying), counted failed as its waves count them (FleetState.stagedFailed).
 */
export function rolloutOf(
  s: FleetViewSources,
  local: Rollout | null,
  failedByStage: ReadonlySet<string> = new Set(),
): Rollout | null {
  if (!local) return null;
  const out = { ...local, late: { ...local.late } };
  const known = s.fleet.knownRevisions();
  const remote = (cr: NodeMasquerade) => {
    const st = cr.status;
    // A node no replica ever reported (an object without a status: `kubectl create`, or a
    // holder whose status writes are refused) is no target: it would hold the rollout open.
    if (!st || st.mode === "observe" || st.replica === "") return;
    uncount(out, s.fleet.rollout.countedAs(cr.metadata.name));
    const name = cr.metadata.name;
    count(out, failedByStage.has(name) ? "failed" : remoteOutcome(s, st, local.revision, known), 1);
  };
  eachNode(s, () => undefined, remote);
  if (out.pending > 0) out.finishedAt = null;
  return out;
}

export type { Outcome } from "../fleet/rollout.js";

/** By the one definition the staged rollout counts by too (recordedOutcome, @masq/shared). */
function remoteOutcome(
  s: FleetViewSources,
  st: NodeMasqueradeStatus,
  revision: number,
  known: readonly NumberedConfig[],
): Outcome {
  return recordedOutcome(st, revision, verdictOf(s, st) === "live", known);
}

/** Takes away a node as this replica's view counted it (RolloutTracker.countedAs). */
export function uncount(r: Rollout, was: { target?: Outcome; late?: Outcome }): void {
  if (was.target) count(r, was.target, -1);
  if (was.late) r.late[lateKey(was.late)]--;
}

/** Adds (1) or takes away (-1) one target with this outcome; offline ones are also pending. */
export function count(r: Rollout, o: Outcome, by: 1 | -1): void {
  r.total += by;
  if (o === "done") r.done += by;
  else if (o === "failed") r.failed += by;
  else r.pending += by;
  if (o === "offline") r.offline += by;
  if (o === "awaiting-rules") {
    const n = (r.awaitingRules ?? 0) + by;
    if (n > 0) r.awaitingRules = n;
    else delete r.awaitingRules;
  }
}
