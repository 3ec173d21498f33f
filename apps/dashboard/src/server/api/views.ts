// The JSON bodies of docs/api.md, built from server state with the shared wire types.
import {
  type ConfigEvent,
  type ConfigResponse,
  type FleetSummary,
  linuxNodeView,
  NOT_HEARD_SINCE_RESTART,
  type NodeDetail,
  type NodeSummary,
  type NodeView,
  type Rollout,
  windowsNodeView,
} from "@masq/shared";
import type { ConfigState } from "../config/config-service.js";
import {
  assessmentOf,
  healSchedule,
  type NodeAssessment,
  type NodeRecord,
  toSummary,
} from "../fleet/node.js";
import type { StagedRollouts } from "../fleet/staged-rollout.js";
import {
  countByStatus,
  fleetNodes,
  type RemoteSummary,
  rolloutOf,
} from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";
import { driftedResync } from "./node-summary.js";

export function fleetSummary(
  ctx: Pick<ApiContext, "fleet" | "config" | "staged" | "replicas" | "observeResync" | "startedAt">,
): FleetSummary {
  const state = ctx.config.current();
  const view = ctx.replicas?.sources();
  const counts = view
    ? countByStatus(view)
    : { total: ctx.fleet.nodes.size, byStatus: ctx.fleet.countByStatus() };
  return {
    ...counts,
    ...configEvent(state, ctx.staged),
    rollout: rolloutView(ctx),
    // A scan of the fleet only while some node is drifted.
    driftedResync: counts.byStatus.drifted
      ? driftedResync(
          view ? fleetNodes(view) : ctx.fleet.nodes.values(),
          ctx.observeResync !== null,
        )
      : { resyncable: 0, skipped: [], cannotHeal: [] },
    startedAt: ctx.startedAt,
  };
}

/** The rollout's progress over every node (those held by other replicas too). */
export function rolloutView(ctx: Pick<ApiContext, "fleet" | "replicas">): Rollout | null {
  const view = ctx.replicas?.sources();
  const local = ctx.fleet.rolloutView();
  return view ? rolloutOf(view, local, new Set(ctx.fleet.stagedFailed())) : local;
}

/**
 * The stored config's revision and the one nodes enforce: after an aborted staged rollout the
 * stable revision every node returned to, not the stored (aborted) one.
 */
function revisions(state: ConfigState, staged: Pick<StagedRollouts, "fleetDesired" | "abortedTo">) {
  return {
    resourceVersion: state.rev.resourceVersion,
    revision: state.rev.revision,
    desiredRevision: staged.fleetDesired(state.desired)?.revision ?? null,
    // Said here, not inferred from the two numbers above, which differ for other reasons too.
    abortedRevision:
      state.desired && staged.abortedTo(state.desired) ? state.desired.revision : null,
  };
}

export function configEvent(
  state: ConfigState,
  staged: Pick<StagedRollouts, "fleetDesired" | "abortedTo">,
): ConfigEvent {
  return { ...revisions(state, staged), valid: state.result.ok };
}

export function configView(
  state: ConfigState,
  staged: Pick<StagedRollouts, "fleetDesired" | "abortedTo">,
): Omit<ConfigResponse, "flags"> {
  const r = state.result;
  return {
    config: r.ok ? r.config : (state.desired?.config ?? null),
    yaml: state.rev.text,
    ...revisions(state, staged),
    valid: r.ok,
    errors: r.ok ? [] : r.errors,
    warnings: r.warnings,
    author: state.rev.author,
    updatedAt: state.rev.updatedAt,
    message: state.rev.message,
  };
}

/** Linux views by assessment: identical nodes share one assessment, so one view. */
const linuxViews = new WeakMap<NodeAssessment, NodeView>();

/** The node page's desired-vs-actual, or why there is none. */
function viewOf(n: NodeRecord): { view: NodeView | null; viewUnavailable: string | null } {
  const a = assessmentOf(n);
  if (!n.snapshot)
    return {
      view: null,
      viewUnavailable: n.restored
        ? `${NOT_HEARD_SINCE_RESTART}: its rules are shown once its reporter reconnects and reports them`
        : "the node has not reported its rules yet",
    };
  if (!a)
    return { view: null, viewUnavailable: "there is no valid desired config to compare with" };
  if (a.unknown) return { view: null, viewUnavailable: a.unknown.reason };
  if (n.snapshot.windows) {
    const v = windowsNodeView(
      { report: a.report, desired: a.windowsDesired ?? [] },
      n.snapshot.windows,
    );
    return { view: v, viewUnavailable: null };
  }
  if (a.nft) return { view: a.nft.view, viewUnavailable: null };
  let v = linuxViews.get(a);
  if (!v) {
    v = linuxNodeView({ report: a.report, families: a.analyzed?.() ?? [] }, n.snapshot.linux);
    linuxViews.set(a, v);
  }
  return { view: v, viewUnavailable: null };
}

export function nodeDetail(n: NodeRecord, now: number): NodeDetail {
  // Judged on this read if put off at a push: the page's counts and view say the same. The
  // route judges through FleetState.assessmentNow first, so that the node's row hears of it.
  assessmentOf(n);
  const p = n.pending;
  return {
    node: {
      ...toSummary(n),
      flags: n.hello.flags,
      reporterVersion: n.hello.reporterVersion,
      randomFullySupported: n.hello.randomFullySupported,
    },
    ...viewOf(n),
    heal: healSchedule(n),
    snapshotAt: n.snapshot?.takenAt ?? null,
    lastApply: n.lastApply,
    pending: p ? { kind: p.kind, revision: p.revision, sentAt: p.sentAt } : null,
    events: n.events.newestFirst(),
    serverTime: now,
  };
}

/** Every node ordered by name (with replicas, those other replicas hold too); `summarize`
 * makes the row of a node held here. */
export function allSummaries(
  ctx: Pick<ApiContext, "fleet" | "replicas">,
  row: (n: NodeRecord | RemoteSummary) => NodeSummary = (n) => ("hello" in n ? toSummary(n) : n),
): NodeSummary[] {
  const view = ctx.replicas?.sources();
  const nodes: (NodeRecord | RemoteSummary)[] = view
    ? [...fleetNodes(view)]
    : [...ctx.fleet.nodes.values()];
  return nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(row);
}
