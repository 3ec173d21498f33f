// Normalized fleet state fed by the SSE stream: nodes in a Map by name, a sorted name list
// that only changes when nodes come or go, and per-status counts kept incrementally.
// Pure functions: every update returns a new state and reuses untouched node objects, so
// memoized rows re-render only for nodes that changed.
import type {
  ConfigEvent,
  FleetEvent,
  FleetSummary,
  HeldBy,
  HelloEvent,
  NodeRolloutPlace,
  NodeStatus,
  NodeSummary,
  Rollout,
  StagedRolloutView,
} from "@masq/shared";

export type StatusCounts = Record<NodeStatus, number>;

export interface FleetState {
  /** A hello has been received: the node list is complete. */
  ready: boolean;
  nodes: ReadonlyMap<string, NodeSummary>;
  /** Node names sorted by name; a new array only when nodes are added or removed. */
  names: readonly string[];
  counts: StatusCounts;
  summary: FleetSummary | null;
  /**
   * The staged rollout as the server computed it (GET /api/rollout's `rollout`), from the
   * hello and every `staged-rollout` event: it changes in the same batch as the fleet bar's
   * counts, so the panel and the bar never disagree. `undefined`: not known yet.
   */
  staged: StagedRolloutView | null | undefined;
  /** Bumped on every applied change. */
  version: number;
}

export function emptyCounts(): StatusCounts {
  return { "in-sync": 0, drifted: 0, applying: 0, error: 0, unknown: 0, offline: 0 };
}

export function initialFleetState(): FleetState {
  return {
    ready: false,
    nodes: new Map(),
    names: [],
    counts: emptyCounts(),
    summary: null,
    staged: undefined,
    version: 0,
  };
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function countsOf(nodes: Iterable<NodeSummary>): StatusCounts {
  const c = emptyCounts();
  for (const n of nodes) if (n.status in c) c[n.status]++;
  return c;
}

function sameNode(a: NodeSummary, b: NodeSummary): boolean {
  return (
    a.status === b.status &&
    a.summary === b.summary &&
    a.connected === b.connected &&
    a.liveness === b.liveness &&
    a.lastSeenAt === b.lastSeenAt &&
    a.lastReportAt === b.lastReportAt &&
    a.notHeardSinceStart === b.notHeardSinceStart &&
    a.appliedRevision === b.appliedRevision &&
    a.mode === b.mode &&
    a.os === b.os &&
    a.critical === b.critical &&
    a.warnings === b.warnings &&
    a.backend === b.backend &&
    a.kernel === b.kernel &&
    a.iptablesVersion === b.iptablesVersion &&
    a.resyncUnavailable === b.resyncUnavailable &&
    a.notKnownHere?.reason === b.notKnownHere?.reason &&
    a.notKnownHere?.fields.join() === b.notKnownHere?.fields.join() &&
    sameHolder(a.heldBy, b.heldBy) &&
    samePlace(a.rollout, b.rollout)
  );
}

/** The severity chip of a node held elsewhere reads its holder's count (severity.ts). */
function sameHolder(a: HeldBy | undefined, b: HeldBy | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.replica === b.replica &&
    a.differences === b.differences &&
    a.desiredRevision === b.desiredRevision
  );
}

function samePlace(a: NodeRolloutPlace | undefined, b: NodeRolloutPlace | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.revision === b.revision &&
    a.wave === b.wave &&
    a.released === b.released &&
    a.aborted === b.aborted &&
    a.desiredRevision === b.desiredRevision &&
    a.progress === b.progress &&
    a.failure === b.failure &&
    a.inSyncNow === b.inSyncNow &&
    a.driftedBefore === b.driftedBefore
  );
}

/** Full replacement (first hello and every reconnect; also a polled GET /api/nodes). */
export function applyHello(
  state: FleetState,
  hello: Pick<HelloEvent, "nodes"> & Partial<HelloEvent>,
): FleetState {
  const nodes = new Map<string, NodeSummary>();
  for (const n of hello.nodes ?? []) {
    const prev = state.nodes.get(n.name);
    nodes.set(n.name, prev && sameNode(prev, n) ? prev : n);
  }
  const names = [...nodes.keys()].sort(compareNames);
  const keepNames =
    names.length === state.names.length && names.every((n, i) => n === state.names[i]);
  return {
    ready: true,
    nodes,
    names: keepNames ? state.names : names,
    counts: countsOf(nodes.values()),
    summary: hello.summary ?? state.summary,
    // A polled node list carries no staged rollout: the poll sends it beside (live.ts).
    staged: hello.staged !== undefined ? hello.staged : state.staged,
    version: state.version + 1,
  };
}

/** Live event `staged-rollout` (and the polled GET /api/rollout): the whole view, replaced. */
export function applyStaged(state: FleetState, staged: StagedRolloutView | null): FleetState {
  return { ...state, staged, version: state.version + 1 };
}

/** Changed nodes only (coalesced by the server). */
export function applyFleet(
  state: FleetState,
  ev: Pick<FleetEvent, "nodes"> & Partial<FleetEvent>,
): FleetState {
  const changed = ev.nodes ?? [];
  const removed = ev.removed ?? [];
  let nodes: Map<string, NodeSummary> | null = null;
  const counts = { ...state.counts };
  const added: string[] = [];
  const gone = new Set<string>();
  for (const n of changed) {
    const prev = (nodes ?? state.nodes).get(n.name);
    if (prev && sameNode(prev, n)) continue;
    nodes ??= new Map(state.nodes);
    if (prev) counts[prev.status]--;
    else added.push(n.name);
    counts[n.status] = (counts[n.status] ?? 0) + 1;
    nodes.set(n.name, n);
  }
  for (const name of removed) {
    const prev = (nodes ?? state.nodes).get(name);
    if (!prev) continue;
    nodes ??= new Map(state.nodes);
    counts[prev.status]--;
    nodes.delete(name);
    gone.add(name);
  }
  const summary = ev.summary ?? state.summary;
  if (!nodes) {
    return summary === state.summary ? state : { ...state, summary, version: state.version + 1 };
  }
  let names = state.names;
  if (added.length > 0 || gone.size > 0) {
    const addedNow = added.filter((n) => !gone.has(n));
    names = mergeSorted(
      gone.size > 0 ? state.names.filter((n) => !gone.has(n)) : state.names,
      addedNow.sort(compareNames),
    );
  }
  return { ...state, nodes, names, counts, summary, version: state.version + 1 };
}

function mergeSorted(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a.slice();
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length)
    out[k++] = compareNames(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

export function applyRollout(state: FleetState, rollout: Rollout | null): FleetState {
  if (!rollout) {
    return state.summary
      ? { ...state, summary: { ...state.summary, rollout: null }, version: state.version + 1 }
      : state;
  }
  const base: FleetSummary = state.summary ?? {
    total: state.nodes.size,
    byStatus: { ...state.counts },
    resourceVersion: rollout.resourceVersion,
    revision: rollout.revision,
    desiredRevision: rollout.revision,
    abortedRevision: null,
    rollout: null,
  };
  return {
    ...state,
    // The config revision comes from config events: a rollout may be of an earlier revision
    // (an aborted staged rollout returns nodes to the previous one).
    summary: { ...base, rollout },
    version: state.version + 1,
  };
}

export function applyConfigEvent(state: FleetState, ev: ConfigEvent): FleetState {
  if (!state.summary) return state;
  const s = state.summary;
  if (
    s.resourceVersion === ev.resourceVersion &&
    s.revision === ev.revision &&
    s.desiredRevision === ev.desiredRevision &&
    s.abortedRevision === ev.abortedRevision
  )
    return state;
  return {
    ...state,
    summary: {
      ...s,
      resourceVersion: ev.resourceVersion,
      revision: ev.revision,
      desiredRevision: ev.desiredRevision,
      abortedRevision: ev.abortedRevision,
    },
    version: state.version + 1,
  };
}
