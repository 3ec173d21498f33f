// The NodeMasquerade custom resource (charts/ipmasq-dashboard/crds/nodemasquerades.yaml,
// docs/scale-out.md): its coordinates, its shape as read from the API server (zod: anything
// else is ignored with a reason, never trusted), and the status this replica writes for a node
// it holds, built from the node's record.
import { type Difference, NODE_STATUSES, resyncCannotHeal } from "@masq/shared";
import { z } from "zod";
import { desiredDigest } from "../config/desired-digest.js";
import type { FleetState } from "../fleet/fleet-state.js";
import { assessmentOf, countBySeverity, type NodeRecord, severityUnknown } from "../fleet/node.js";
import { rulesJudged } from "../fleet/rollout-done.js";
import { healedDriftSchema } from "../fleet/staged-heal-report.js";

export const NODE_MASQUERADE = {
  group: "ipmasq.dev",
  version: "v1alpha1",
  plural: "nodemasquerades",
  kind: "NodeMasquerade",
  apiVersion: "ipmasq.dev/v1alpha1",
} as const;

/** At most this many drift reasons, each at most this long (the CRD's limits). */
export const MAX_REASONS = 10;
export const MAX_REASON_CHARS = 200;

const condition = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
});
export type Condition = z.infer<typeof condition>;

/**
 * What the fleet table shows of a node beyond its health: versions and severity counts. Written
 * with the status; trusted only when its `observedAt` is the status's (a replica of the previous
 * release patches the status without it, leaving an older one behind). The counts are absent
 * while the holder has not judged the node's rules against its desired revision (put off at a
 * push: `drift` is absent too; written null, which a merge patch deletes); a replica of the
 * previous release always wrote them.
 */
const details = z.object({
  observedAt: z.string(),
  os: z.enum(["linux", "windows"]),
  kernel: z.string(),
  iptablesVersion: z.string(),
  reporterVersion: z.string(),
  critical: z.number().int().nonnegative().nullable().optional(),
  warnings: z.number().int().nonnegative().nullable().optional(),
  /**
   * Why the counts are absent, in the holder's words (node.ts severityUnknown: one per cause);
   * written null with the counts. Absent from a status of the previous release, and pruned by a
   * CRD of it (helm leaves CRDs as installed): readers then give the generic reason. A replica
   * of the previous release ignores it (its schema strips unknown keys).
   */
  countsUnknown: z.string().nullable().optional(),
  /**
   * On a drifted node whose every difference is one a resync does not rewrite, why a resync
   * leaves it drifted (shared resyncCannotHeal); null otherwise. The other replicas leave such a
   * node out of "Resync all drifted" as the holder would. Absent from a status of the previous
   * release or pruned by its CRD: the node is resynced, as before.
   */
  resyncCannotHeal: z.string().nullable().optional(),
});
export type NodeDetails = z.infer<typeof details>;

export const nodeMasqueradeStatusSchema = z.object({
  // The CRD allows "" (someone's kubectl edit): read as held by no replica, not dropped.
  replica: z.string(),
  connected: z.boolean(),
  health: z.enum(NODE_STATUSES),
  desiredRevision: z.number().int().nullable().optional(),
  appliedRevision: z.number().int().nullable().optional(),
  // SHA-256 of desiredRevision's config: merged revisions are numbered by each replica, so the
  // others read the numbers by it (shared inReaderNumbering). Absent: a previous release.
  desiredConfig: z.string().max(64).nullable().optional(),
  backend: z.string().optional(),
  mode: z.string().optional(),
  // Absent (written null) while the holder has not judged the node's rules: see `details`.
  drift: z
    .object({ count: z.number().int(), reasons: z.array(z.string()) })
    .nullable()
    .optional(),
  message: z.string().optional(),
  observedAt: z.string(),
  resyncObserved: z.string().optional(),
  // A drift healed on a released node, for the staged rollout's owner (staged-heal-report.ts);
  // written null once taken. Absent from a previous release, or pruned by its CRD.
  healedDrift: healedDriftSchema.nullable().optional(),
  details: details.optional(),
  conditions: z.array(condition).optional(),
});
export type NodeMasqueradeStatus = z.infer<typeof nodeMasqueradeStatusSchema>;

export const resyncRequestSchema = z.object({
  id: z.string().min(1).max(64),
  requestedBy: z.string().max(256),
  requestedAt: z.string(),
});
export type ResyncRequest = z.infer<typeof resyncRequestSchema>;

export const nodeMasqueradeSchema = z.object({
  metadata: z.object({ name: z.string().min(1), resourceVersion: z.string().optional() }),
  spec: z.object({ resyncRequest: resyncRequestSchema.optional() }).optional(),
  status: nodeMasqueradeStatusSchema.optional(),
});
export type NodeMasquerade = z.infer<typeof nodeMasqueradeSchema>;

/** What this replica knows of a node it holds, in the CRD's status shape (without times). */
export interface StatusInput {
  record: NodeRecord;
  replica: string;
  resyncObserved?: string;
}

/** The status fields compared to decide whether a write is needed (no times). */
export type StatusBody = Omit<NodeMasqueradeStatus, "observedAt" | "conditions" | "details"> & {
  details?: Omit<NodeDetails, "observedAt">;
};

/** A written status as a body again (its details only when believed: see `details`). */
export function lastBody(st: NodeMasqueradeStatus): StatusBody {
  const { observedAt, conditions: _c, details, ...rest } = st;
  if (details?.observedAt !== observedAt) return rest;
  const { observedAt: _at, ...kept } = details;
  return { ...rest, details: kept };
}

/**
 * The health written for `n`: a node that disconnected after applying, before the rules it runs
 * since were judged, is written `applying` (disconnected), not `offline`: the other replicas
 * count an offline node by its holder's last judgement (rollout-done.ts remoteAppliedState), and
 * `offline` read as judged made the staged rollout's owner count such a canary done and release
 * the next wave while its holder counted it pending (break9).
 */
function healthOf(n: NodeRecord): NodeMasqueradeStatus["health"] {
  return !n.connected && n.appliedRevision !== null && !rulesJudged(n) ? "applying" : n.status;
}

/**
 * The status of a node held here. A node whose judgement against its desired revision was put
 * off at a push (node.ts `deferred`: it is applying it) is not judged for this write: its drift
 * and severity counts are written null — the merge patch deletes the previous revision's — which
 * readers take as not known (fleet-view.ts), never as none. They are written once it is judged
 * (its post-apply rules, or a read that forces it: the change feed brings the node back here).
 * A node with no judgement at all (its rules never known here) is written the same way.
 */
export function statusBody(i: StatusInput): StatusBody {
  const n = i.record;
  // No judgement (no rules known, no desired config): not known either, never "no drift".
  const diffs = n.deferred ? null : (assessmentOf(n)?.report.differences ?? null);
  // Why a resync would leave it drifted (the other replicas' "Resync all drifted" skips it).
  const stays = diffs && n.status === "drifted" ? resyncCannotHeal(diffs) : null;
  return {
    replica: i.replica,
    connected: n.connected,
    health: healthOf(n),
    // The revision its judgement (health, drift, counts, message) was made against, never
    // one read apart from it: see heldStatus.
    desiredRevision: n.judgedAgainst?.revision ?? null,
    // "" for none, not null: the merge patch deletes a null key, and an absent one reads as a
    // status of the previous release (its numbers taken as they are).
    desiredConfig: n.judgedAgainst ? desiredDigest(n.judgedAgainst) : "",
    appliedRevision: n.appliedRevision,
    backend: n.hello.backend,
    mode: n.hello.mode,
    drift: diffs ? driftOf(diffs) : null,
    message: clip(n.summary.replace(/\s+/g, " "), 1024),
    details: {
      os: n.hello.os,
      kernel: n.hello.kernel,
      iptablesVersion: n.hello.iptablesVersion,
      reporterVersion: n.hello.reporterVersion,
      ...(diffs ? { ...countBySeverity(diffs), countsUnknown: null } : notCounted(n)),
      resyncCannotHeal: stays === null ? null : clip(stays, MAX_COUNTS_UNKNOWN_CHARS),
    },
    ...(i.resyncObserved ? { resyncObserved: i.resyncObserved } : {}),
  };
}

/**
 * The status to write of `name`, a node held here (undefined: not in the fleet); `resyncObserved`
 * the resync request this replica performed for it. Never the revision before's judgement beside
 * the new revision: a node a sliced push has not reached yet (`behind`) is written not judged
 * (health unknown, no counts) until its turn, as its row says — judging each here made the change
 * feed's flush after a push's start judge the whole fleet at once; one judged against another
 * revision than its desired one (not marked by a push) is judged now.
 */
export function heldStatus(
  fleet: FleetState,
  name: string,
  replica: string,
  resyncObserved?: string,
): StatusBody | undefined {
  const record = fleet.nodes.get(name);
  if (!record) return undefined;
  if (record.behind === undefined) fleet.againstDesired(record);
  // Null once none waits: the merge patch deletes it.
  const healedDrift = fleet.healedDriftOf(name) ?? null;
  return { ...statusBody({ record, replica, resyncObserved }), healedDrift };
}

/** Counts not known: written null (a merge patch deletes them), with why, as the row says it. */
function notCounted(n: NodeRecord) {
  const why = severityUnknown(n)?.reason;
  return {
    critical: null,
    warnings: null,
    countsUnknown: why === undefined ? null : clip(why, MAX_COUNTS_UNKNOWN_CHARS),
  };
}

/** The longest reason written (the CRD's maxLength). */
export const MAX_COUNTS_UNKNOWN_CHARS = 512;

function driftOf(diffs: readonly Difference[]): NonNullable<StatusBody["drift"]> {
  return {
    count: diffs.length,
    reasons: diffs.slice(0, MAX_REASONS).map((d) => clip(d.message, MAX_REASON_CHARS)),
  };
}

/**
 * The full status to write: `body`, when it was observed, and the Connected and InSync
 * conditions (metav1.Condition: lastTransitionTime moves only when a condition's status does).
 */
export function fullStatus(
  body: StatusBody,
  previous: NodeMasqueradeStatus | undefined,
  now: Date,
): NodeMasqueradeStatus {
  const at = rfc3339(now);
  const keep = (type: string, status: Condition["status"]) => {
    const old = previous?.conditions?.find((c) => c.type === type);
    return old && old.status === status ? old.lastTransitionTime : at;
  };
  const connected = body.connected ? "True" : "False";
  const inSync: Condition["status"] =
    body.health === "in-sync"
      ? "True"
      : body.health === "drifted" || body.health === "error"
        ? "False"
        : "Unknown";
  const { details, ...rest } = body;
  return {
    ...rest,
    observedAt: at,
    ...(details ? { details: { ...details, observedAt: at } } : {}),
    conditions: [
      {
        type: "Connected",
        status: connected,
        reason: body.connected ? "ReporterConnected" : "ReporterDisconnected",
        message: body.connected
          ? `reporter connected to ${body.replica}`
          : `reporter disconnected from ${body.replica}`,
        lastTransitionTime: keep("Connected", connected),
      },
      {
        type: "InSync",
        status: inSync,
        reason: conditionReason(body.health),
        message: body.message ?? "",
        lastTransitionTime: keep("InSync", inSync),
      },
    ],
  };
}

const REASONS: Record<string, string> = {
  "in-sync": "InSync",
  drifted: "Drifted",
  applying: "Applying",
  error: "Error",
  unknown: "NotResponding",
  offline: "Offline",
};

function conditionReason(health: string): string {
  return REASONS[health] ?? "Unknown";
}

/** RFC 3339 with second precision, as Kubernetes writes times. */
export function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
