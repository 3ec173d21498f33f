// Every replica active: what this replica writes to the API server for NodeMasquerades (so the
// write rate docs/scale-out.md computes can be checked on a cluster) and its backlog, read at
// scrape time.
import { Counter, Gauge, type Registry } from "prom-client";
import type { ReplicaSync } from "./replica-sync.js";

export function registerReplicaMetrics(registry: Registry, sync: ReplicaSync): void {
  const stats = sync.writer.stats;
  new Counter({
    name: "ipmasq_node_status_writes_total",
    help: "NodeMasquerade status writes by this replica, by result (written, created, unchanged: not written, yielded: another replica holds the node, unheld: a dead replica's node marked unknown, conflict, failed)",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "written" }, stats.writes);
      this.inc({ result: "created" }, stats.creates);
      this.inc({ result: "unchanged" }, stats.unchanged);
      this.inc({ result: "yielded" }, stats.yielded);
      this.inc({ result: "unheld" }, stats.unheld);
      this.inc({ result: "conflict" }, stats.conflicts);
      this.inc({ result: "failed" }, stats.failures);
    },
  });
  new Gauge({
    name: "ipmasq_node_status_queue",
    help: "Nodes whose changed NodeMasquerade status waits for this replica's write budget (at most one entry per node)",
    registers: [registry],
    collect() {
      this.set(sync.writer.queued);
    },
  });
  new Gauge({
    name: "ipmasq_node_status_reconnects_pending",
    help: "Nodes connected to this replica whose NodeMasquerade does not say so yet (written first), plus reporters still connecting here (token checked, hello and claim, refused busy within their retry); also on this replica's Lease, where a staged rollout's owner waits for 0 before it calls a node that went offline gone",
    registers: [registry],
    collect() {
      this.set(sync.reconnectsPending());
    },
  });
  registerResyncRequestMetrics(registry, sync);
}

/** Bulk resync requests for nodes held elsewhere (resync-requests.ts): written and waiting. */
function registerResyncRequestMetrics(registry: Registry, sync: ReplicaSync): void {
  const requests = sync.resyncRequests;
  new Counter({
    name: "ipmasq_resync_requests_total",
    help: "spec.resyncRequest writes of a bulk resync by this replica for nodes other replicas hold, by result (written, failed)",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "written" }, requests.stats.written);
      this.inc({ result: "failed" }, requests.stats.failed);
    },
  });
  new Gauge({
    name: "ipmasq_resync_requests_queue",
    help: "Bulk resync requests waiting for this replica's write budget (at most one per node)",
    registers: [registry],
    collect() {
      this.set(requests.backlog().waiting);
    },
  });
}
