// Prometheus metrics on a registry per server (tests run several servers in one process).

import { NODE_STATUSES, type NodeStatus } from "@masq/shared";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { StoreStatus } from "./store/types.js";

export interface Metrics {
  registry: Registry;
  reporterConnections: Gauge;
  reporterRejected: Counter<"reason">;
  rolloutDuration: Histogram;
  configChanges: Counter<"valid">;
  /** Failed sign-ins and bearer tokens: `rejected` was checked and wrong, `throttled` refused unchecked. */
  authFailures: Counter<"via" | "outcome">;
  /** Reporter connections paused for sending over their budget. */
  silenceSweepsLate: Counter;
  reporterPaused: Counter;
  /** Snapshots replaced by a newer one of the same node before they were judged. */
  snapshotsCoalesced: Counter;
  /** Snapshots naming their rules by digest, by what the digest was here (snapshot-digests.ts). */
  snapshotDigests: LabelCounts;
  /** Supplies the rules-by-digest cache's size at scrape time. */
  setDigestCache(fn: () => DigestCacheStats): void;
  /** Applies that failed or were never acknowledged, by trigger. */
  applyFailures: Counter<"trigger">;
  /** 1 while the current rollout is paused (set by the rollout code), else 0. */
  /** Kubernetes Events recorded, by what became of them (kube/event-recorder.ts). */
  kubeEvents: Counter<"result">;
  /** Seconds Event writes waited for the Event write rate limit (IPMASQ_EVENT_QPS). */
  kubeEventWaitSeconds: Counter;
  /** Supplies the Events waiting to be written at scrape time. */
  setKubeEventsQueued(fn: () => number): void;
  /** Supplies the node counts at scrape time. */
  setNodeCounter(fn: () => Record<NodeStatus, number>): void;
  /** Supplies the store's state (watch, source object, history) at scrape time. */
  setStoreStatus(fn: () => StoreStatus | undefined): void;
  /** Supplies whether this replica is the active one at scrape time. */
  setActive(fn: () => boolean): void;
  /** Supplies the fleet's memory and backlog figures at scrape time. */
  setFleetGauges(fn: () => { assessmentCacheBytes: number; snapshotsWaiting: number }): void;
}

/**
 * A counter by one label for events a push brings by the thousand: counted in a Map, published
 * to the Prometheus counter at each scrape (prom-client validates and hashes the labels object
 * on every `inc`, ~1 µs per frame in a busy dashboard: issue 17).
 */
export interface LabelCounts {
  inc(label: string): void;
}

/** LabelCounts published through `counter`'s only label `name`, at each scrape. */
function labelCounts(
  registry: Registry,
  o: { name: string; help: string; label: string },
): LabelCounts {
  const counts = new Map<string, number>();
  new Counter({
    name: o.name,
    help: o.help,
    labelNames: [o.label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, n] of counts) this.inc({ [o.label]: value }, n);
    },
  });
  return { inc: (value) => void counts.set(value, (counts.get(value) ?? 0) + 1) };
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
  const store = storeMetrics(registry);
  let active: () => boolean = () => true;
  new Gauge({
    name: "ipmasq_active_replica",
    help: "1 when this replica serves the fleet (every replica with replica sync; otherwise the Lease holder, or a replica without election)",
    registers: [registry],
    collect() {
      this.set(active() ? 1 : 0);
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
    silenceSweepsLate: new Counter({
      name: "ipmasq_reporter_silence_sweeps_late_total",
      help: "Sweeps for silent reporter connections that ran late (this process was starved or blocked) and so dropped only those already silent at the previous sweep",
      registers: [registry],
    }),
    ...signalMetrics(registry),
    ...inboundMetrics(registry),
    setNodeCounter(fn) {
      counts = fn;
    },
    setStoreStatus: store.set,
    setFleetGauges(fn) {
      fleetGauges = fn;
    },
    setActive(fn) {
      active = fn;
    },
  };
}

/** What the rules-by-digest caches hold (gateway/snapshot-digests.ts). */
export interface DigestCacheStats {
  held: number;
  chars: number;
  chainsHeld?: number;
  chainsChars?: number;
}

/** Metrics of what reporters send: pauses, snapshots coalesced, snapshots named by digest. */
function inboundMetrics(
  registry: Registry,
): Pick<Metrics, "reporterPaused" | "snapshotsCoalesced" | "snapshotDigests" | "setDigestCache"> {
  let cache: () => DigestCacheStats = () => ({ held: 0, chars: 0 });
  new Gauge({
    name: "ipmasq_snapshot_digest_cache",
    help: "Rules kept by digest for every reporter connection: whole linux parts (what=entries, what=chars: canonical characters) and single chains (what=chain-entries, what=chain-chars)",
    labelNames: ["what"],
    registers: [registry],
    collect() {
      const c = cache();
      this.set({ what: "entries" }, c.held);
      this.set({ what: "chars" }, c.chars);
      this.set({ what: "chain-entries" }, c.chainsHeld ?? 0);
      this.set({ what: "chain-chars" }, c.chainsChars ?? 0);
    },
  });
  return {
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
    snapshotDigests: labelCounts(registry, {
      name: "ipmasq_snapshot_digests_total",
      help: "Snapshots with a rules digest: known (judged from rules held here), unknown (rules not held here: the node shown unknown, its rules asked for at most once per 5 s per connection), whole (rules sent with it, checked and kept), refused (digest not granted or not the rules' digest)",
      label: "result",
    }),
    setDigestCache(fn) {
      cache = fn;
    },
  };
}

/** Metrics of node signals: apply failures, a paused rollout, Kubernetes Events written. */
function signalMetrics(
  registry: Registry,
): Pick<Metrics, "applyFailures" | "kubeEvents" | "kubeEventWaitSeconds" | "setKubeEventsQueued"> {
  let queued = () => 0;
  new Gauge({
    name: "ipmasq_kube_events_queued",
    help: "Kubernetes Events waiting to be written (at most 1,000; past that new ones are dropped)",
    registers: [registry],
    collect() {
      this.set(queued());
    },
  });
  return {
    kubeEventWaitSeconds: new Counter({
      name: "ipmasq_kube_event_wait_seconds_total",
      help: "Seconds Kubernetes Event writes waited for the Event write rate limit (IPMASQ_EVENT_QPS, IPMASQ_EVENT_BURST)",
      registers: [registry],
    }),
    setKubeEventsQueued(fn) {
      queued = fn;
    },
    applyFailures: new Counter({
      name: "ipmasq_apply_failures_total",
      help: "Applies on nodes that failed or got no apply-result in time, by trigger (desired, resync, periodic, …)",
      labelNames: ["trigger"],
      registers: [registry],
    }),
    kubeEvents: new Counter({
      name: "ipmasq_kube_events_total",
      help: "Kubernetes Events recorded (Kubernetes store only): created, patched (counted again), throttled by the spam filter, dropped (queue full), failed",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
}

/**
 * Gauges read from the store's status at scrape time, registered only for a store that has one
 * (the Kubernetes store): a file store has no watch or history ConfigMap, and a gauge that is
 * never set would still be scraped as 0 (`ipmasq_config_history_revisions 0` beside a history
 * of 4 revisions).
 */
function storeMetrics(registry: Registry): { set(fn: () => StoreStatus | undefined): void } {
  let status: () => StoreStatus | undefined = () => undefined;
  let registered = false;
  const register = () => {
    const gauge = (
      name: string,
      help: string,
      value: (s: StoreStatus) => number | undefined,
      labelNames: string[] = [],
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          const s = status();
          const v = s && value(s);
          if (v !== undefined) this.set(v);
        },
      });
    gauge(
      "ipmasq_config_watch_open",
      "1 while the watch on the config ConfigMap is open",
      (s) => s.watch && (s.watch.open ? 1 : 0),
    );
    gauge(
      "ipmasq_config_watch_failures",
      "Failed list/watch attempts of the config ConfigMap in a row",
      (s) => s.watch?.failures,
    );
    new Counter({
      name: "ipmasq_config_watch_lists_total",
      help: "Lists of the config ConfigMap: the first, then one per expired or failed watch",
      registers: [registry],
      collect() {
        const lists = status()?.watch?.lists;
        if (lists === undefined) return;
        this.reset();
        this.inc(lists);
      },
    });
    gauge(
      "ipmasq_config_problems",
      "Problems the config store reports (see /readyz)",
      (s) => s.problems.length,
    );
    gauge(
      "ipmasq_config_history_revisions",
      "Revisions kept in the history ConfigMap",
      (s) => s.history?.kept,
    );
    gauge(
      "ipmasq_config_history_bytes",
      "Bytes of the history ConfigMap's data (the API allows 1 MiB)",
      (s) => s.history?.bytes,
    );
    new Gauge({
      name: "ipmasq_config_source",
      help: "1 for the state of the config ConfigMap: present, deleted (while running) or missing (since the start)",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        const state = status()?.source?.state;
        if (!state) return;
        for (const s of ["present", "deleted", "missing"])
          this.set({ state: s }, s === state ? 1 : 0);
      },
    });
  };
  return {
    set(fn) {
      status = fn;
      if (!registered) register();
      registered = true;
    },
  };
}
