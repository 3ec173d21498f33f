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
  /** Supplies the node counts at scrape time. */
  setNodeCounter(fn: () => Record<NodeStatus, number>): void;
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
    setNodeCounter(fn) {
      counts = fn;
    },
  };
}
