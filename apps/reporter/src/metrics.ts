// Prometheus metrics (own registry, so several agents can live in one process) and the small
// HTTP server for /healthz and /metrics.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  applies: Counter<"result" | "trigger">;
  applyDuration: Histogram<"trigger">;
  lastSync: Gauge;
  lastRead: Gauge;
  drifted: Gauge;
  differences: Gauge<"severity">;
  reads: Counter<"result">;
  connected: Gauge;
  refused: Counter<"source">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    applies: new Counter({
      name: "ipmasq_apply_total",
      help: "Applies by result (ok|error|refused) and trigger",
      labelNames: ["result", "trigger"],
      registers,
    }),
    applyDuration: new Histogram({
      name: "ipmasq_apply_duration_seconds",
      help: "Duration of an apply, including verification",
      labelNames: ["trigger"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    lastSync: new Gauge({
      name: "ipmasq_last_sync_timestamp_seconds",
      help: "When the node was last verified to have the desired rules (apply or read)",
      registers,
    }),
    lastRead: new Gauge({
      name: "ipmasq_last_read_timestamp_seconds",
      help: "When the chains were last read successfully",
      registers,
    }),
    drifted: new Gauge({
      name: "ipmasq_drift",
      help: "1 when the node differs from the desired config, 0 in sync, -1 unknown (no desired config)",
      registers,
    }),
    differences: new Gauge({
      name: "ipmasq_drift_differences",
      help: "Current differences from the desired config by severity",
      labelNames: ["severity"],
      registers,
    }),
    reads: new Counter({
      name: "ipmasq_reads_total",
      help: "Reads of the two chains by result",
      labelNames: ["result"],
      registers,
    }),
    connected: new Gauge({
      name: "ipmasq_dashboard_connected",
      help: "1 while the dashboard link is open",
      registers,
    }),
    refused: new Counter({
      name: "ipmasq_config_refused_total",
      help: "Invalid configs refused, by source",
      labelNames: ["source"],
      registers,
    }),
  };
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves GET /healthz (200 when healthy() else 503) and GET /metrics. */
export function serveOps(opts: {
  port: number;
  host?: string;
  metrics: Metrics;
  healthy: () => boolean;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
    } else if (path === "/healthz") {
      const ok = opts.healthy();
      res
        .writeHead(ok ? 200 : 503, { "content-type": "text/plain" })
        .end(ok ? "ok\n" : "unhealthy\n");
    } else if (path === "/metrics") {
      opts.metrics.registry.metrics().then(
        (text) =>
          res.writeHead(200, { "content-type": opts.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
