// Prometheus metrics on a registry per server (tests run several servers in one process).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { NODE_STATUSES, type NodeStatus } from "./fleet/node.js";

export interface Metrics {
  registry: Registry;
  reporterConnections: Gauge;
  reporterRejected: Counter<"reason">;
  rolloutDuration: Histogram;
  configChanges: Counter<"valid">;
  /** Failed sign-ins and bearer tokens: `rejected` was checked and wrong, `throttled` refused unchecked. */
  authFailures: Counter<"via" | "outcome">;
  /** Reporter connections paused for sending over their budget. */
  reporterPaused: Counter;
  /** Snapshots replaced by a newer one of the same node before they were judged. */
  snapshotsCoalesced: Counter;
  /** Supplies the node counts at scrape time. */
  setNodeCounter(fn: () => Record<NodeStatus, number>): void;
  /** Supplies the fleet's memory and backlog figures at scrape time. */
  setFleetGauges(fn: () => { assessmentCacheBytes: number; snapshotsWaiting: number }): void;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: "ipmasq_dashboard_" });
  let counts: () => Record<NodeStatus, number> = () =>
    Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>;
  new Gauge({
    name: "ipmasq_nodes",
    help: "Nodes known to the dashboard, by status",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      const c = counts();
      for (const s of NODE_STATUSES) this.set({ status: s }, c[s]);
    },
  });
  let fleetGauges = () => ({ assessmentCacheBytes: 0, snapshotsWaiting: 0 });
  new Gauge({
    name: "ipmasq_assessment_cache_bytes",
    help: "Estimated heap held by cached node assessments (bounded)",
    registers: [registry],
    collect() {
      this.set(fleetGauges().assessmentCacheBytes);
    },
  });
  new Gauge({
    name: "ipmasq_snapshots_waiting",
    help: "Nodes whose newest snapshot waits for its turn to be judged",
    registers: [registry],
    collect() {
      this.set(fleetGauges().snapshotsWaiting);
    },
  });
  return {
    registry,
    reporterConnections: new Gauge({
      name: "ipmasq_reporter_connections",
      help: "Open reporter WebSocket connections",
      registers: [registry],
    }),
    reporterRejected: new Counter({
      name: "ipmasq_reporter_rejected_total",
      help: "Reporter connections or frames refused, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    rolloutDuration: new Histogram({
      name: "ipmasq_rollout_duration_seconds",
      help: "From a config change to the last connected enforce-mode node acknowledging it",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    configChanges: new Counter({
      name: "ipmasq_config_changes_total",
      help: "New config revisions seen, by validity",
      labelNames: ["valid"],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: "ipmasq_auth_failures_total",
      help: "Failed sign-ins (via=login) and API bearer tokens (via=bearer): rejected, or throttled by the per-client backoff",
      labelNames: ["via", "outcome"],
      registers: [registry],
    }),
    reporterPaused: new Counter({
      name: "ipmasq_reporter_paused_total",
      help: "Times a reporter connection was paused for sending more than its budget",
      registers: [registry],
    }),
    snapshotsCoalesced: new Counter({
      name: "ipmasq_snapshots_coalesced_total",
      help: "Snapshots dropped unjudged because a newer one from the same node arrived first",
      registers: [registry],
    }),
    setNodeCounter(fn) {
      counts = fn;
    },
    setFleetGauges(fn) {
      fleetGauges = fn;
    },
  };
}
